import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * What a county's registry of 100 000 homes needs so that its lists cost what the caller's part
 * of it costs (issue 13, server/bench/households.ts): how many homes each area has, and a search
 * index over the addresses and ids.
 *
 * `household_counts`: homes per area and vulnerable flag, kept by triggers on `households` (every
 * insert, delete, move and change of the flag), so a list's total is a sum over the caller's
 * areas rather than a count of every home in them. Triggers rather than the store module: a
 * count that an edit by hand, or a writer added later, could leave wrong would be worse than none.
 *
 * The search index keeps the search's meaning (db/households.ts): a part of the address or of the
 * id, anywhere in it; the index only finds the candidates, and the same LIKE as before decides.
 * Trigram indexes find any part of 3 characters or more; a shorter search reads the caller's homes.
 *
 * SQLite: an FTS5 table with the trigram tokenizer, contentless (the text is in `households`),
 * kept by triggers. FTS5 rows are named by an integer rowid and `households` has a text key, whose
 * implicit rowid VACUUM may renumber: `household_search_keys` gives each household a rowid of its
 * own (an INTEGER PRIMARY KEY, which VACUUM keeps).
 *
 * PostgreSQL: GIN trigram indexes (the `pg_trgm` extension, in PostgreSQL's contrib: Debian's
 * `postgresql` package and the official image have it; trusted, so a database owner may create
 * it). Where it cannot be created, nothing else fails: the indexes are left out, searches read the
 * caller's homes as before, and the server says so at start (plugins/households.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) await postgres(db);
  else await sqlite(db);
}

async function sqlite(db: Kysely<unknown>): Promise<void> {
  await sql`create table household_counts (
    area text not null,
    vulnerable integer not null,
    households integer not null,
    primary key (area, vulnerable)
  ) without rowid`.execute(db);
  await sql`create trigger household_counts_insert after insert on households begin
    insert into household_counts (area, vulnerable, households) values (new.area, new.vulnerable, 1)
      on conflict (area, vulnerable) do update set households = households + 1;
  end`.execute(db);
  await sql`create trigger household_counts_update after update of area, vulnerable on households
    when old.area is not new.area or old.vulnerable is not new.vulnerable begin
    update household_counts set households = households - 1
      where area = old.area and vulnerable = old.vulnerable;
    insert into household_counts (area, vulnerable, households) values (new.area, new.vulnerable, 1)
      on conflict (area, vulnerable) do update set households = households + 1;
  end`.execute(db);
  await sql`create trigger household_counts_delete after delete on households begin
    update household_counts set households = households - 1
      where area = old.area and vulnerable = old.vulnerable;
  end`.execute(db);
  await countExisting(db);

  await sql`create table household_search_keys (
    n integer primary key,
    household_id text not null unique
  )`.execute(db);
  // Case-insensitive (the tokenizer's default), as SQLite's LIKE is for latin letters.
  await sql`create virtual table household_search using fts5(
    household, address, tokenize = 'trigram', content = '', contentless_delete = 1
  )`.execute(db);
  await sql`create trigger household_search_insert after insert on households begin
    insert into household_search_keys (household_id) values (new.id);
    insert into household_search (rowid, household, address)
      values ((select n from household_search_keys where household_id = new.id), new.id, new.address);
  end`.execute(db);
  await sql`create trigger household_search_update after update of id, address on households
    when old.id is not new.id or old.address is not new.address begin
    update household_search_keys set household_id = new.id where household_id = old.id;
    delete from household_search where rowid = (select n from household_search_keys where household_id = new.id);
    insert into household_search (rowid, household, address)
      values ((select n from household_search_keys where household_id = new.id), new.id, new.address);
  end`.execute(db);
  await sql`create trigger household_search_delete after delete on households begin
    delete from household_search where rowid = (select n from household_search_keys where household_id = old.id);
    delete from household_search_keys where household_id = old.id;
  end`.execute(db);
  // The households registered before this migration.
  await sql`insert into household_search_keys (household_id) select id from households order by id`.execute(
    db,
  );
  await sql`insert into household_search (rowid, household, address)
    select k.n, h.id, h.address from household_search_keys k join households h on h.id = k.household_id`.execute(
    db,
  );
}

async function postgres(db: Kysely<unknown>): Promise<void> {
  await sql`create table household_counts (
    area text not null,
    vulnerable integer not null,
    households integer not null,
    primary key (area, vulnerable)
  )`.execute(db);
  await sql`create function household_counts_follow() returns trigger language plpgsql as $$
    begin
      if tg_op in ('UPDATE', 'DELETE') then
        update household_counts set households = households - 1
          where area = old.area and vulnerable = old.vulnerable;
      end if;
      if tg_op in ('INSERT', 'UPDATE') then
        insert into household_counts (area, vulnerable, households) values (new.area, new.vulnerable, 1)
          on conflict (area, vulnerable) do update set households = household_counts.households + 1;
      end if;
      return null;
    end
  $$`.execute(db);
  await sql`create trigger household_counts_insert_delete after insert or delete on households
    for each row execute function household_counts_follow()`.execute(db);
  await sql`create trigger household_counts_update after update of area, vulnerable on households
    for each row when (old.area is distinct from new.area or old.vulnerable is distinct from new.vulnerable)
    execute function household_counts_follow()`.execute(db);
  await countExisting(db);

  // A failed statement spoils the whole migration's transaction; the savepoint keeps it to this one.
  await sql`savepoint household_search`.execute(db);
  try {
    await sql`create extension if not exists pg_trgm`.execute(db);
    await sql`release savepoint household_search`.execute(db);
  } catch {
    await sql`rollback to savepoint household_search`.execute(db);
    return;
  }
  // Installed earlier, the extension may live in a schema off the search path: name its operator class there.
  const { rows } = await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pg_trgm'`.execute(db);
  const ops = sql`${sql.id(rows[0]?.schema ?? 'public')}.gin_trgm_ops`;
  await sql`create index households_address_trgm_idx on households using gin (address ${ops})`.execute(db);
  await sql`create index households_id_trgm_idx on households using gin (id ${ops})`.execute(db);
}

/** The homes registered before this migration. */
async function countExisting(db: Kysely<unknown>): Promise<void> {
  await sql`insert into household_counts (area, vulnerable, households)
    select area, vulnerable, count(*) from households group by area, vulnerable`.execute(db);
}

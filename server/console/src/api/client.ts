import type {
  Advisory,
  Alarm,
  AlarmDetail,
  AlarmResponseBody,
  Area,
  AttentionRow,
  BumpTest,
  BumpTestBody,
  BumpTestStart,
  Calibration,
  CalibrationBody,
  ConsoleCatalogue,
  CurrentShift,
  Device,
  DeviceDetail,
  DeviceEventRow,
  GasTest,
  GasTestInput,
  Household,
  HouseholdDetectorInput,
  HouseholdInput,
  ImportAnswer,
  Inspection,
  InspectionInput,
  InspectionItemId,
  InspectionPatch,
  InspectionPhoto,
  Ledger,
  LedgerHead,
  MaintenanceView,
  MapAnswer,
  MonitoringInput,
  Page,
  Permit,
  PermitAction,
  PermitDetail,
  PermitInput,
  PermitPatch,
  PermitRuleSet,
  ReadingBuckets,
  ResolutionReason,
  ResponseTimesReport,
  Shift,
  ShiftPage,
  Space,
  SpaceInput,
  TestPosition,
  Who,
} from './types';

/** Every request gives up after this long: no answer is shown as such, never as "nothing". */
export const TIMEOUT_MS = 5000;

/** An answer other than 2xx, or none at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    /** Seconds the server asked to wait (429 Retry-After). */
    readonly retryAfterS?: number,
    /** The whole answer, where it says more than `error` and `message` (an import's bad rows). */
    readonly body?: unknown,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init: RequestInit & { csrf?: string | null } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.csrf) headers['x-csrf-token'] = init.csrf;
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers, cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const timeout = err instanceof DOMException && err.name === 'TimeoutError';
    throw new ApiError(0, timeout ? 'timeout' : 'network', timeout ? `no answer within 5 s` : String(err));
  }
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => null)) as { error?: string; message?: string } | null;
  if (!res.ok) {
    const wait = Number(res.headers.get('retry-after')) || undefined;
    throw new ApiError(res.status, body?.error, body?.message ?? `HTTP ${res.status}`, wait, body);
  }
  return body as T;
}

/** A photo or a household sheet may take this long to go up: 2 MB over a village's weak mobile signal. */
export const UPLOAD_TIMEOUT_MS = 120_000;

/**
 * POSTs `body` as it is (an image, no JSON) with XMLHttpRequest, which alone reports how much of
 * a request has gone up (fetch does not): `onProgress` gets 0…1.
 */
function upload<T>(
  path: string,
  body: Blob,
  csrf: string | null,
  onProgress: (f: number) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    xhr.setRequestHeader('content-type', body.type || 'application/octet-stream');
    if (csrf) xhr.setRequestHeader('x-csrf-token', csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network error'));
    xhr.ontimeout = () =>
      reject(new ApiError(0, 'timeout', `no answer within ${UPLOAD_TIMEOUT_MS / 1000} s`));
    xhr.onload = () => {
      type Answer = { error?: string; message?: string } | null;
      let answer: Answer = null;
      try {
        answer = JSON.parse(xhr.responseText) as Answer;
      } catch {
        // A proxy's HTML page (413 from nginx): the status says enough.
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(answer as T);
      else {
        const wait = Number(xhr.getResponseHeader('retry-after')) || undefined;
        reject(
          new ApiError(xhr.status, answer?.error, answer?.message ?? `HTTP ${xhr.status}`, wait, answer),
        );
      }
    };
    xhr.send(body);
  });
}

/** A query string of the parameters that are set. */
function qs(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

/** The one typed client of the server's API: no page calls fetch itself. */
export const api = {
  session: () => request<Who>('/api/session'),
  login: (username: string, password: string) =>
    request<Who>('/api/session', { method: 'POST', body: JSON.stringify({ username, password }) }),
  logout: (csrf: string | null) => request<void>('/api/session', { method: 'DELETE', csrf }),
  catalogue: () => request<ConsoleCatalogue>('/api/console/catalogue'),
  /** The newest 1 000 open alarms of this login, and how many are open in all. */
  openAlarms: () => request<{ alarms: Alarm[]; total: number }>('/api/alarms?state=open&limit=1000'),
  ack: (id: string, note: string, csrf: string | null) =>
    request<{ alarm: Alarm }>(`/api/alarms/${encodeURIComponent(id)}/ack`, {
      method: 'POST',
      body: JSON.stringify({ note }),
      csrf,
    }).then((b) => b.alarm),
  map: () => request<MapAnswer>('/api/map'),
  alarm: (id: string) => request<AlarmDetail>(`/api/alarms/${encodeURIComponent(id)}`),
  resolve: (id: string, reason: ResolutionReason, note: string, csrf: string | null) =>
    request<{ alarm: Alarm }>(`/api/alarms/${encodeURIComponent(id)}/resolve`, {
      method: 'POST',
      body: JSON.stringify({ reason, note }),
      csrf,
    }).then((b) => b.alarm),
  respond: (id: string, body: AlarmResponseBody, csrf: string | null) =>
    request<{ alarm: Alarm }>(`/api/alarms/${encodeURIComponent(id)}/responses`, {
      method: 'POST',
      body: JSON.stringify(body),
      csrf,
    }).then((b) => b.alarm),
  ackMany: (ids: string[], note: string, csrf: string | null) =>
    request<{ acknowledged: Alarm[]; refused: { id: string; error: string; message: string }[] }>(
      '/api/alarms/ack',
      { method: 'POST', body: JSON.stringify({ ids, note }), csrf },
    ),
  /**
   * A page of devices by id, in `area` (and the areas within it) when given; `installed` 'false':
   * in no household; `state`, `kind`, `site` and `text` (id, site or location) filter on the server.
   */
  devices: (q: {
    area?: string;
    installed?: 'true' | 'false';
    state?: 'online' | 'offline';
    kind?: 'household-co' | 'multigas' | 'combustible';
    site?: string;
    text?: string;
    limit?: number;
    cursor?: string;
  }) => request<Page & { devices: Device[] }>(`/api/devices${qs(q)}`),
  /** One device, with its alarm profile and set points. */
  device: (id: string) => request<DeviceDetail>(`/api/devices/${encodeURIComponent(id)}`),
  /** A page of the areas this login sees. */
  areas: (cursor?: string) => request<Page & { areas: Area[] }>(`/api/areas${qs({ limit: 1000, cursor })}`),
  /** One device's readings in buckets of `every` (e.g. 1m), every gas, oldest first. */
  readings: (q: { device: string; from: string; to: string; every: string; limit?: number }) =>
    request<ReadingBuckets>(`/api/readings${qs(q)}`),
  /** The day's advisories at or above the banner grade that concern this login. */
  currentAdvisories: (day: string) =>
    request<{ grades: number; bannerFrom: number; advisories: Advisory[] }>(
      `/api/advisories/current${qs({ day })}`,
    ),
  advisories: (cursor?: string) =>
    request<Page & { advisories: Advisory[] }>(`/api/advisories${qs({ limit: 50, cursor })}`),
  addAdvisory: (body: { area: string; day: string; grade: number; text: string }, csrf: string | null) =>
    request<{ advisory: Advisory }>('/api/advisories', { method: 'POST', body: JSON.stringify(body), csrf }),
  /** Installed detectors the next visit must see to, village by village. */
  attention: (today: string, cursor?: string) =>
    request<Page & { detectors: AttentionRow[] }>(
      `/api/households/attention${qs({ today, limit: 200, cursor })}`,
    ),
  /** A page of households of this login's area, by id: search, area, vulnerable occupants. */
  households: (q: { q?: string; area?: string; vulnerable?: 'true'; cursor?: string }) =>
    request<Page & { households: Household[] }>(`/api/households${qs({ ...q, limit: 50 })}`),
  household: (id: string) =>
    request<{ household: Household }>(`/api/households/${encodeURIComponent(id)}`).then((b) => b.household),
  // Changing the registry (supervisors; docs/server.md "Households").
  addHousehold: (body: HouseholdInput, csrf: string | null) =>
    request<{ household: Household }>('/api/households', {
      method: 'POST',
      body: JSON.stringify(body),
      csrf,
    }).then((b) => b.household),
  patchHousehold: (id: string, body: Omit<HouseholdInput, 'id'>, csrf: string | null) =>
    request<{ household: Household }>(`/api/households/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: JSON.stringify(body),
      csrf,
    }).then((b) => b.household),
  /** Installs a detector in a household, or changes where and when it was. */
  putDetector: (id: string, device: string, body: HouseholdDetectorInput, csrf: string | null) =>
    request<{ household: Household }>(
      `/api/households/${encodeURIComponent(id)}/detectors/${encodeURIComponent(device)}`,
      { method: 'PUT', body: JSON.stringify(body), csrf },
    ).then((b) => b.household),
  removeDetector: (id: string, device: string, csrf: string | null) =>
    request<{ household: Household }>(
      `/api/households/${encodeURIComponent(id)}/detectors/${encodeURIComponent(device)}`,
      { method: 'DELETE', csrf },
    ).then((b) => b.household),
  /**
   * Checks (dry-run) or imports (apply, all or nothing) a household sheet: the file's bytes as
   * they are. A refused apply is an ApiError whose `body` is the answer with every bad row.
   */
  importHouseholds: (
    mode: 'dry-run' | 'apply',
    file: Blob,
    csrf: string | null,
    onProgress: (fraction: number) => void = () => {},
  ) => upload<ImportAnswer>(`/api/households/import${qs({ mode })}`, file, csrf, onProgress),
  /** Where the browser downloads the blank household sheet, in the console's language. */
  householdTemplateUrl: (format: 'xlsx' | 'csv', lang: string) =>
    `/api/households/template${qs({ format, lang: lang === 'zh-CN' ? 'zh-CN' : 'en' })}`,
  /** Where the browser downloads the registry (the list's filters) in the import's shape. */
  householdExportUrl: (
    filters: { q?: string; area?: string; vulnerable?: 'true' },
    format: 'xlsx' | 'csv',
    lang: string,
  ) => `/api/households/export${qs({ ...filters, format, lang: lang === 'zh-CN' ? 'zh-CN' : 'en' })}`,
  // Home visits (docs/server.md, "Inspections").
  /** A page of visits, newest first; with overdue 'true' the overdue rectifications, oldest deadline first. */
  inspections: (q: {
    household?: string;
    area?: string;
    overdue?: 'true';
    limit?: number;
    cursor?: string;
  }) => request<Page & { inspections: Inspection[] }>(`/api/inspections${qs(q)}`),
  addInspection: (body: InspectionInput, csrf: string | null) =>
    request<{ inspection: Inspection }>('/api/inspections', {
      method: 'POST',
      body: JSON.stringify(body),
      csrf,
    }).then((b) => b.inspection),
  patchInspection: (id: string, body: InspectionPatch, csrf: string | null) =>
    request<{ inspection: Inspection }>(`/api/inspections/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: JSON.stringify(body),
      csrf,
    }).then((b) => b.inspection),
  /** Adds a photo of `item` to a visit: the image itself as the body. */
  addInspectionPhoto: (
    id: string,
    item: InspectionItemId,
    photo: Blob,
    csrf: string | null,
    onProgress: (fraction: number) => void = () => {},
  ) =>
    upload<{ photo: InspectionPhoto; inspection: Inspection }>(
      `/api/inspections/${encodeURIComponent(id)}/photos${qs({ item })}`,
      photo,
      csrf,
      onProgress,
    ),
  /** Where a visit's photo is (an <img> or a link; the session cookie goes with it). */
  inspectionPhotoUrl: (id: string, photoId: string) =>
    `/api/inspections/${encodeURIComponent(id)}/photos/${encodeURIComponent(photoId)}`,
  /** A page of the alarm history by the History page's filters, newest raise first. */
  alarmHistory: (filters: Record<string, string | undefined>, cursor?: string) =>
    request<Page & { alarms: Alarm[] }>(`/api/alarms${qs({ ...filters, limit: 100, cursor })}`),
  /** Where the browser downloads the same history as XLSX or CSV (a plain GET with the cookie). */
  alarmExportUrl: (
    filters: Record<string, string | undefined>,
    format: 'xlsx' | 'csv',
    lang: string,
    tz: string,
  ) => `/api/alarms/export${qs({ ...filters, format, lang: lang === 'zh-CN' ? 'zh-CN' : 'en', tz })}`,
  // The weekly ledger (docs/server.md, "Weekly ledger").
  /** Ledgers of this login's area, newest made first, without their numbers. */
  ledgers: (cursor?: string) =>
    request<Page & { ledgers: LedgerHead[] }>(`/api/reports/ledgers${qs({ limit: 50, cursor })}`),
  /** Makes an area's ledger now (supervisors): of the week `week` lies in, else the last week ended. */
  makeLedger: (body: { area: string; week?: string }, csrf: string | null) =>
    request<{ ledger: Ledger }>('/api/reports/ledger', {
      method: 'POST',
      body: JSON.stringify(body),
      csrf,
    }).then((b) => b.ledger),
  /** Where a ledger downloads as XLSX or PDF, in the console's language. */
  ledgerFileUrl: (id: string, format: 'xlsx' | 'pdf', lang: string) =>
    `/api/reports/ledgers/${encodeURIComponent(id)}/file${qs({ format, lang: lang === 'zh-CN' ? 'zh-CN' : 'en' })}`,
  /** A device's alarms, newest first, in every state. */
  deviceAlarms: (device: string, limit: number, cursor?: string) =>
    request<Page & { alarms: Alarm[] }>(`/api/alarms${qs({ device, limit, cursor })}`),
  /** A device's gateway events (interlock, fault, bump test…), newest first. */
  deviceEvents: (device: string, limit: number) =>
    request<{ events: DeviceEventRow[] }>(`/api/events${qs({ device, limit })}`).then((b) => b.events),
  // Detector maintenance (docs/server.md, "Detector maintenance").
  /** A device's fitness for a gas test before work, its due dates and its last tests. */
  maintenance: (device: string) =>
    request<MaintenanceView>(`/api/devices/${encodeURIComponent(device)}/maintenance`),
  addBumpTest: (device: string, body: BumpTestBody, csrf: string | null) =>
    request<{ bumpTest: BumpTest; maintenance: MaintenanceView }>(
      `/api/devices/${encodeURIComponent(device)}/maintenance/bump-tests`,
      { method: 'POST', body: JSON.stringify(body), csrf },
    ),
  addCalibration: (device: string, body: CalibrationBody, csrf: string | null) =>
    request<{ calibration: Calibration; maintenance: MaintenanceView }>(
      `/api/devices/${encodeURIComponent(device)}/maintenance/calibrations`,
      { method: 'POST', body: JSON.stringify(body), csrf },
    ),
  /** Sends the gateway's bump_test command; the result is recorded when the gateway reports it. */
  startBumpTest: (device: string, csrf: string | null) =>
    request<BumpTestStart>(`/api/devices/${encodeURIComponent(device)}/maintenance/bump-tests/start`, {
      method: 'POST',
      csrf,
    }),
  // Confined spaces and permits (docs/permits.md, "Workflow").
  /** A page of the confined-space register, by id. */
  spaces: (q: { q?: string; kind?: string; area?: string; limit?: number; cursor?: string }) =>
    request<Page & { spaces: Space[] }>(`/api/spaces${qs({ limit: 100, ...q })}`),
  space: (id: string) =>
    request<{ space: Space }>(`/api/spaces/${encodeURIComponent(id)}`).then((b) => b.space),
  addSpace: (body: SpaceInput, csrf: string | null) =>
    request<{ space: Space }>('/api/spaces', { method: 'POST', body: JSON.stringify(body), csrf }).then(
      (b) => b.space,
    ),
  patchSpace: (id: string, body: Partial<Omit<SpaceInput, 'id'>>, csrf: string | null) =>
    request<{ space: Space }>(`/api/spaces/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: JSON.stringify(body),
      csrf,
    }).then((b) => b.space),
  /** The rule set a permit drawn up now for a space, or a site (or neither: the defaults), follows. */
  permitRules: (q: { space?: string; site?: string }) =>
    request<{ rules: PermitRuleSet }>(`/api/permit-rules${qs(q)}`).then((b) => b.rules),
  /** A page of permits, newest drawn up first, by space, state (or open), kind, window and person. */
  permits: (q: {
    space?: string;
    state?: string;
    kind?: string;
    from?: string;
    to?: string;
    person?: string;
    limit?: number;
    cursor?: string;
  }) => request<Page & { permits: Permit[] }>(`/api/permits${qs({ limit: 50, ...q })}`),
  /** A permit with its records, tests, monitoring and what this login may do now. */
  permit: (id: string) => request<PermitDetail>(`/api/permits/${encodeURIComponent(id)}`),
  addPermit: (body: PermitInput, csrf: string | null) =>
    request<{ permit: Permit }>('/api/permits', { method: 'POST', body: JSON.stringify(body), csrf }).then(
      (b) => b.permit,
    ),
  /** Changes a draft (PATCH): the fields sent replace the form's; changed measures need confirming again. */
  patchPermit: (id: string, body: PermitPatch, csrf: string | null) =>
    request<{ permit: Permit }>(`/api/permits/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: JSON.stringify(body),
      csrf,
    }).then((b) => b.permit),
  /** This login took in the evacuation of record `seq`: every console stops its banner and sound. */
  ackEvacuation: (id: string, seq: number, csrf: string | null) =>
    request<{ permit: Permit }>(`/api/permits/${encodeURIComponent(id)}/evacuation/ack`, {
      method: 'POST',
      body: JSON.stringify({ seq }),
      csrf,
    }).then((b) => b.permit),
  confirmMeasure: (id: string, n: number, csrf: string | null) =>
    request<{ permit: Permit }>(`/api/permits/${encodeURIComponent(id)}/measures/${n}/confirm`, {
      method: 'POST',
      csrf,
    }).then((b) => b.permit),
  /** A state change signed by this login (approve, start, suspend, resume, close, cancel). */
  permitAction: (
    id: string,
    action: PermitAction,
    note: string,
    csrf: string | null,
    /** start: what watches the work, when not the passed test's detector (its portable instrument). */
    monitor?: { device: string } | { instrument: string },
  ) =>
    request<PermitDetail>(`/api/permits/${encodeURIComponent(id)}/actions/${action}`, {
      method: 'POST',
      body: JSON.stringify(monitor === undefined ? { note } : { note, monitor }),
      csrf,
    }),
  startGasTest: (id: string, body: GasTestInput, csrf: string | null) =>
    request<{ permit: Permit; test: GasTest }>(`/api/permits/${encodeURIComponent(id)}/tests`, {
      method: 'POST',
      body: JSON.stringify(body),
      csrf,
    }),
  /** The detector (or probe) is at `position` now: its response time starts. */
  placeGasTest: (id: string, test: string, position: TestPosition, csrf: string | null) =>
    request<{ permit: Permit; test: GasTest }>(
      `/api/permits/${encodeURIComponent(id)}/tests/${encodeURIComponent(test)}/placements`,
      { method: 'POST', body: JSON.stringify({ position }), csrf },
    ),
  /** Records the position's readings: the detector's settled reading, or `values` typed from an instrument. */
  recordGasTest: (
    id: string,
    test: string,
    body: { position: TestPosition; values?: MonitoringInput['values'] },
    csrf: string | null,
  ) =>
    request<{ permit: Permit; test: GasTest }>(
      `/api/permits/${encodeURIComponent(id)}/tests/${encodeURIComponent(test)}/readings`,
      { method: 'POST', body: JSON.stringify(body), csrf },
    ),
  addMonitoring: (id: string, body: MonitoringInput, csrf: string | null) =>
    request<{ permit: Permit }>(`/api/permits/${encodeURIComponent(id)}/monitoring`, {
      method: 'POST',
      body: JSON.stringify(body),
      csrf,
    }).then((b) => b.permit),
  /** Where the permit's form downloads as a PDF, in the console's language. */
  permitPdfUrl: (id: string, lang: string) =>
    `/api/permits/${encodeURIComponent(id)}/pdf${qs({ lang: lang === 'zh-CN' ? 'zh-CN' : 'en' })}`,
  // Shift handover (docs/server.md, "Shift handover and response times").
  currentShift: () => request<CurrentShift>('/api/shifts/current'),
  handOver: (note: string, csrf: string | null) =>
    request<{ shift: Shift }>('/api/shifts/handover', {
      method: 'POST',
      body: JSON.stringify({ note }),
      csrf,
    }).then((b) => b.shift),
  confirmShift: (id: string, note: string, csrf: string | null) =>
    request<{ shift: Shift }>(`/api/shifts/${encodeURIComponent(id)}/confirm`, {
      method: 'POST',
      body: JSON.stringify({ note }),
      csrf,
    }).then((b) => b.shift),
  shifts: (limit: number, cursor?: string) => request<ShiftPage>(`/api/shifts${qs({ limit, cursor })}`),
  shift: (id: string) =>
    request<{ shift: Shift }>(`/api/shifts/${encodeURIComponent(id)}`).then((b) => b.shift),
  responseTimes: (from: Date, to: Date) =>
    request<ResponseTimesReport>(
      `/api/reports/response-times${qs({ from: from.toISOString(), to: to.toISOString() })}`,
    ),
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MAP_HOUSEHOLDS, MapAnswerSchema } from '../alarms/map-schema.js';
import { principalOf } from '../auth/principal.js';
import { visibleAreas } from '../auth/scope.js';
import { householdsOnMap } from '../db/households.js';

/**
 * What the console map draws (SPEC §13): the configured tiles, and the sites the caller may see
 * with their place. Their state comes from the open alarms the console already has.
 */
const mapRoutes: FastifyPluginAsyncZod = async (app) => {
  const { auth } = app;
  app.get(
    '/api/map',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['console'],
        summary: 'Map tiles and the sites placed on the map',
        description:
          'Sites of the caller’s area with a `location` in the config (those without one are counted in `unplaced`, so a map with none reads as such, not as an empty area), and the registered households with a place.',
        response: { 200: MapAnswerSchema },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { map, sites } = app.config.gaswatch;
      const placed = [];
      const unplaced: string[] = [];
      for (const [id, site] of Object.entries(sites)) {
        if (!auth.canSee(p, site.area ?? null)) continue;
        if (site.location === undefined) {
          unplaced.push(id);
          continue;
        }
        placed.push({
          id,
          name: site.name ?? id,
          area: site.area ?? null,
          type: site.type ?? app.config.gaswatch.defaults.siteType,
          ...(site.address === undefined ? {} : { address: site.address }),
          location: site.location,
        });
      }
      const homes = await householdsOnMap(app.db, visibleAreas(app, p), MAP_HOUSEHOLDS);
      return { tiles: map ?? null, sites: placed, unplaced, ...homes };
    },
  );
};

export default mapRoutes;

import { z } from 'zod';

/**
 * One schema per upstream payload. They check what Orbiter and the notebooks rely on and let unknown fields
 * through (NASA adds fields); a missing or retyped field is an upstream shape change.
 */
const numStr = z.string().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'expected a decimal string');

export const neoCloseApproach = z.looseObject({
  close_approach_date: z.string(),
  epoch_date_close_approach: z.number(),
  relative_velocity: z.looseObject({ kilometers_per_second: numStr, kilometers_per_hour: numStr }),
  miss_distance: z.looseObject({ astronomical: numStr, lunar: numStr, kilometers: numStr }),
  orbiting_body: z.string(),
});

export const neoFeedPayload = z.looseObject({
  element_count: z.number().int().nonnegative(),
  near_earth_objects: z.record(
    z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    z.array(
      z.looseObject({
        neo_reference_id: z.string(),
        name: z.string(),
        absolute_magnitude_h: z.number(),
        estimated_diameter: z.looseObject({
          kilometers: z.looseObject({ estimated_diameter_min: z.number(), estimated_diameter_max: z.number() }),
        }),
        is_potentially_hazardous_asteroid: z.boolean(),
        close_approach_data: z.array(neoCloseApproach),
      }),
    ),
  ),
});

const donkiBase = { link: z.string().optional(), linkedEvents: z.array(z.looseObject({ activityID: z.string() })).nullish() };

export const donkiFlrPayload = z.array(
  z.looseObject({ flrID: z.string(), beginTime: z.string(), peakTime: z.string().nullable(), classType: z.string().nullable(), ...donkiBase }),
);
export const donkiCmePayload = z.array(
  z.looseObject({ activityID: z.string(), startTime: z.string(), cmeAnalyses: z.array(z.looseObject({})).nullable(), ...donkiBase }),
);
export const donkiGstPayload = z.array(
  z.looseObject({
    gstID: z.string(),
    startTime: z.string(),
    allKpIndex: z.array(z.looseObject({ observedTime: z.string(), kpIndex: z.number() })).nullable(),
    ...donkiBase,
  }),
);

export const eonetEventsPayload = z.looseObject({
  events: z.array(
    z.looseObject({
      id: z.string(),
      title: z.string(),
      categories: z.array(z.looseObject({ id: z.string(), title: z.string() })),
      geometry: z.array(z.looseObject({ date: z.string(), type: z.string(), coordinates: z.array(z.unknown()) })),
    }),
  ),
});

export const apodPayload = z.array(
  z.looseObject({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), title: z.string(), media_type: z.string(), explanation: z.string() }),
);

export const epicPayload = z.array(
  z.looseObject({
    identifier: z.string(),
    image: z.string(),
    date: z.string(),
    centroid_coordinates: z.looseObject({ lat: z.number(), lon: z.number() }),
  }),
);

export const jplSsdPayload = z.looseObject({
  signature: z.looseObject({ source: z.string(), version: z.string() }),
  count: z.union([z.string(), z.number()]),
  fields: z.array(z.string()).optional(),
  data: z.array(z.array(z.union([z.string(), z.null()]))).optional(),
});
export const fireballFields = ['date', 'energy', 'impact-e', 'lat', 'lat-dir', 'lon', 'lon-dir', 'alt', 'vel'] as const;

export const meteoritesPayload = z.array(
  z.looseObject({ name: z.string(), id: z.string(), nametype: z.string(), recclass: z.string(), fall: z.string() }),
);

export const cmrUmmPayload = z.looseObject({
  hits: z.number().int().nonnegative(),
  items: z.array(
    z.looseObject({
      meta: z.looseObject({ 'concept-id': z.string(), 'provider-id': z.string() }),
      umm: z.looseObject({ GranuleUR: z.string() }),
    }),
  ),
});

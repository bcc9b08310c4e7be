-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Gold analysis (SQL)
-- MAGIC Questions an analyst asks of Orbiter's gold tables, one query per cell. Tables are named `gold.<table>`, as
-- MAGIC in the insights dashboard: run the first cell with the catalog that registers them (bundle variable
-- MAGIC `catalog`, default `orbiter`; docs/deploy.md). Locally, `notebooks/tests/test_gold_analysis.py` runs every query
-- MAGIC on the fixtures.

-- COMMAND ----------

-- The catalog whose gold schema holds the tables (a widget: named parameter markers become notebook widgets).
USE CATALOG IDENTIFIER(:catalog)

-- COMMAND ----------

-- Potentially hazardous close approaches, closest first
SELECT name, close_approach_at, miss_distance_lunar, relative_velocity_kps, diameter_max_m
FROM gold.neo_closest_approaches
WHERE is_potentially_hazardous
ORDER BY miss_distance_km, neo_id

-- COMMAND ----------

-- Share of potentially hazardous approaches per week
SELECT week_start, approaches, hazardous_approaches,
  ROUND(100 * hazardous_approaches / approaches, 1) AS hazardous_pct
FROM gold.neo_hazardous_weekly
ORDER BY week_start

-- COMMAND ----------

-- Solar flares per GOES class over the whole period, with the strongest magnitude seen
SELECT class_letter, SUM(flares) AS flares, MAX(max_magnitude) AS strongest_magnitude
FROM gold.flare_class_monthly
GROUP BY class_letter
ORDER BY class_letter

-- COMMAND ----------

-- Geomagnetic storms by the class of the strongest flare in the 96 h before them, and the mean lag
SELECT COALESCE(SUBSTRING(flare_class, 1, 1), 'none') AS flare_letter, COUNT(*) AS storms,
  ROUND(AVG(lag_hours), 1) AS mean_lag_hours, MAX(max_kp_index) AS strongest_kp
FROM gold.flare_storm_lag
GROUP BY 1
ORDER BY 1

-- COMMAND ----------

-- Meteorite classes: how many were seen falling, and their total mass
SELECT rec_class, landings, fell, ROUND(100 * fell / landings, 1) AS fell_pct, ROUND(total_mass_g / 1000, 1) AS total_mass_kg
FROM gold.meteorites_by_class
ORDER BY landings DESC, rec_class
LIMIT 10

-- COMMAND ----------

-- Meteorite landings per hemisphere (sites with known coordinates)
SELECT CASE WHEN latitude >= 0 THEN 'north' ELSE 'south' END AS hemisphere, COUNT(*) AS landings,
  ROUND(SUM(mass_g) / 1000, 1) AS mass_kg
FROM gold.meteorite_landing_sites
GROUP BY 1
ORDER BY 1

-- COMMAND ----------

-- The most energetic fireball impacts and where they happened
SELECT peak_at, latitude, longitude, impact_energy_kt, radiated_energy_e10j
FROM gold.fireball_impacts
ORDER BY impact_energy_kt DESC, peak_at
LIMIT 10

-- COMMAND ----------

-- Natural events per category: how many, and how many are still open
SELECT category_title, COUNT(*) AS events, COUNT_IF(is_open) AS open_events
FROM gold.natural_event_locations
GROUP BY category_title
ORDER BY events DESC, category_title

-- COMMAND ----------

-- EPIC images per day and the mean latitude under the camera
SELECT CAST(taken_at AS DATE) AS day, COUNT(*) AS images, ROUND(AVG(latitude), 2) AS mean_centroid_latitude
FROM gold.epic_image_centroids
GROUP BY 1
ORDER BY 1

-- COMMAND ----------

-- Imagery per source and product: items and days covered
SELECT source, product, SUM(items) AS items, COUNT(DISTINCT day) AS days
FROM gold.imagery_coverage_daily
GROUP BY source, product
ORDER BY source, product

-- COMMAND ----------

-- Astronomy Picture of the Day entries per media type
SELECT media_type, SUM(entries) AS entries
FROM gold.apod_media_monthly
GROUP BY media_type
ORDER BY media_type

-- COMMAND ----------

-- Pipeline runs per job: failures and the worst hourly p90 duration
SELECT job_name, SUM(runs) AS runs, SUM(failed) AS failed, ROUND(MAX(duration_p90_ms) / 1000, 1) AS worst_p90_s
FROM gold.run_metrics_hourly
GROUP BY job_name
ORDER BY job_name

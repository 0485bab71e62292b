// Offline point-in-time join benchmark (issue 6), the DuckDB peer: ASOF LEFT JOIN of the
// generator's entity rows against its feature rows through @duckdb/node-api, 2 threads.
// Loading the CSV files into tables is not timed; the join materialized into a table is.
// Usage: node peer.mjs DATA_DIR OUT_CSV [REPEAT=3] [THREADS=2]
// Prints one JSON line: {"system":"duckdb","median_s":...,"runs_s":[...],...}.
import { DuckDBInstance } from '@duckdb/node-api';

const [data, out, repeatArg, threadsArg] = process.argv.slice(2);
const repeat = Number(repeatArg ?? 3);
const threads = String(threadsArg ?? 2);

const instance = await DuckDBInstance.create(':memory:', { threads });
const conn = await instance.connect();
const features = `${data}/features.csv`;
const entities = `${data}/entity_rows.csv`;
await conn.run(`CREATE TABLE features AS SELECT * FROM read_csv('${features}', header = true,
  columns = {'driver_id': 'BIGINT', 'event_ts': 'BIGINT', 'created_ts': 'BIGINT',
             'f0': 'DOUBLE', 'f1': 'DOUBLE', 'f2': 'DOUBLE', 'f3': 'DOUBLE', 'f4': 'DOUBLE',
             'f5': 'DOUBLE', 'f6': 'BIGINT', 'f7': 'BIGINT', 'f8': 'BIGINT', 'f9': 'VARCHAR'})`);
await conn.run(`CREATE TABLE entities AS SELECT * FROM read_csv('${entities}', header = true,
  columns = {'driver_id': 'BIGINT', 'ts': 'BIGINT'})`);

const runs = [];
for (let r = 0; r < repeat; ++r) {
  await conn.run('DROP TABLE IF EXISTS result');
  const start = process.hrtime.bigint();
  await conn.run(`CREATE TABLE result AS
    SELECT e.driver_id, e.ts, f.f0, f.f1, f.f2, f.f3, f.f4, f.f5, f.f6, f.f7, f.f8, f.f9
    FROM entities e ASOF LEFT JOIN features f
      ON e.driver_id = f.driver_id AND e.ts >= f.event_ts`);
  runs.push(Number(process.hrtime.bigint() - start) / 1e9);
}
await conn.run(`COPY result TO '${out}' (HEADER, DELIMITER ',')`);
const counts = await conn.runAndReadAll(
  'SELECT count(*)::BIGINT AS n, count(f0)::BIGINT AS matched FROM result');
const [n, matched] = counts.getRows()[0];
const version = (await conn.runAndReadAll('SELECT version()')).getRows()[0][0];
const sorted = [...runs].sort((a, b) => a - b);
console.log(JSON.stringify({
  system: 'duckdb', version, threads: Number(threads), median_s: sorted[Math.floor(sorted.length / 2)],
  runs_s: runs, entity_rows: Number(n), matched: Number(matched),
}));

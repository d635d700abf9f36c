// npm run citus:script — prints the SQL that places Hoa Ban's tables on Citus (reference tables,
// then the tables distributed on province_code), from src/platform/db/distribution.ts.
// Usage: npm run -s citus:script > citus.sql && psql "$DATABASE_URL" -f citus.sql
import { citusScript } from '../src/platform/db/distribution.ts'

process.stdout.write(citusScript())

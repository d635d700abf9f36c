-- The unit's work queue (GET /api/reports/queue) lists a unit's reports newest first, filtered by
-- status. With only (unit_code, status, state_due_at) PostgreSQL read and sorted every open report
-- of the unit before taking a page, so the queue's cost grew with the unit's backlog (bench/scale.ts:
-- 2.17× from 1× to 34× the rows). This index walks one unit newest first and stops after a page.
create index reports_unit_feed on reports (unit_code, created_at desc, id desc);
analyze reports;

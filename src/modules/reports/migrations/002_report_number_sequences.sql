-- Tracking codes come from one sequence per year (report_number_<year>, created on first use)
-- instead of a locked counter row: intake no longer queues behind one lock. A failed or
-- replayed request may leave a gap in the numbers; codes stay unique and increasing.
drop table report_sequences;

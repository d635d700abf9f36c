-- The government's announced working schedule for the year (lịch nghỉ lễ, Tết, làm bù), entered
-- by a province admin. A row wins over the computed calendar for its date: 'day_off' closes a
-- day that would be a working day (an extra or swapped day off), 'working_day' opens one that
-- would not (a make-up Saturday). Every change is written to the audit log in the same transaction.
create table calendar_schedule_days (
  date date primary key,
  kind text not null check (kind in ('day_off', 'working_day')),
  note_vi text not null default '' check (length(note_vi) <= 500),
  note_en text not null default '' check (length(note_en) <= 500),
  updated_at timestamptz not null default now(),
  updated_by text not null          -- the audit actor: 'user:<id>', 'client:<id>', 'system'
);

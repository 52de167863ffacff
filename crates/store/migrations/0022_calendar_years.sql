-- Years of the working-day calendar loaded by the operator as the State Council's notices come
-- out (A19.2): the holidays and the make-up workdays, as comma-separated ISO dates. A year
-- loaded here wins over the one the platform ships with.
CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    holidays TEXT NOT NULL,
    workdays TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    loaded_at BIGINT NOT NULL
);

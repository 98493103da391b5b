-- Billing in the station ledger: a refused start (transactions.refused) is never billed; one
-- that delivered energy anyway (a charger that charged offline on its local list) is held for
-- an operator to decide, with the review cause `refused`.
ALTER TABLE billing_reviews DROP CONSTRAINT billing_reviews_cause_check;
ALTER TABLE billing_reviews ADD CONSTRAINT billing_reviews_cause_check
    CHECK (cause IN ('metering', 'no_tariff', 'error', 'refused'));

-- SearchCustomers by sector (a business customer's most common filter): that sector's rows in
-- name order, instead of every customer's.
CREATE INDEX customer_search_sector_idx ON customer_search (entry, industry_sector, sort_name, id);

WITH t AS (SELECT 1 AS x) SELECT x, 'it''s', E'a\'b', $$dollar$$ FROM t; -- trailing comment

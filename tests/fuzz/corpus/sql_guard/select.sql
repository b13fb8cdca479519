SELECT id, name FROM users WHERE created_at > now() - interval '1 day' ORDER BY id LIMIT 10

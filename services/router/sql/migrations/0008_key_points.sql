-- 0008: key points of long requests (masked sentences, their source and page).
ALTER TABLE work_items ADD COLUMN key_points jsonb;

COMMENT ON COLUMN work_items.key_points IS
    'key points of a long request: [{text, source, page}] in text order, masked; null once purged';

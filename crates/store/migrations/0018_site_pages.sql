-- An article may stand for one of the portal's fixed pages (about, data use agreement,
-- privacy, contact, accessibility): the newest published one for a page is shown there.
ALTER TABLE articles ADD COLUMN site_page TEXT;
CREATE INDEX articles_by_site_page ON articles (site_page, status, published_at);

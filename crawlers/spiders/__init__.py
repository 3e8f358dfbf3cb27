"""One generic spider per kind of source: ``rss``, ``html``, ``json``, ``sitemap``."""

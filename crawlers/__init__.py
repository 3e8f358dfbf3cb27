"""Collect stage: config-driven Scrapy spiders, normalisation and storage pipelines.

Spiders are thin (``crawlers.spiders``); the pure helpers (``encoding``, ``text``, ``dates``,
``extract``) are shared with ``yuqing extract``; each crawl runs in its own process
(``python -m crawlers.run SOURCE_ID``).
"""

"""Scrapy settings of the yuqing project (``scrapy.cfg`` at the repository root points here).

``crawlers.context.crawl_settings`` overlays the admins' ``settings.yaml`` (user agent, robots,
timeouts, retries, page size) and the source's limits on top of these defaults.
"""

BOT_NAME = "yuqing"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

USER_AGENT = "yuqing/0.1 (public-opinion monitor; +https://github.com/yuqing-project/yuqing)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # also bounds decompressed bodies (HttpCompressionMiddleware)
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
# Only http and https are fetched: no file:, data:, ftp: or s3: handler a link could reach.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
# Names the URL policy checked are connected to at the address it checked (no DNS rebinding).
TWISTED_DNS_RESOLVER = "crawlers.resolver.PinnedResolver"
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
YUQING_RETRY_BACKOFF = 1.0  # seconds before the first retry; doubles on each further retry
REDIRECT_MAX_TIMES = 10
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawlers.logformat.PrivateLogFormatter"  # items logged by URL, never their text
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.UrlPolicyMiddleware": 50,  # before robots.txt and every other middleware
    "crawlers.middlewares.CredentialsMiddleware": 720,  # after cookies (700): never in the cookie jar
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.middlewares.BackoffRetryMiddleware": 550,
}
SPIDER_MIDDLEWARES = {
    "crawlers.middlewares.IncrementalMiddleware": 950,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.normalize.NormalizePipeline": 100,
    "crawlers.pipelines.validate.ValidatePipeline": 200,
    "crawlers.pipelines.dedupe.DedupePipeline": 300,
    "crawlers.pipelines.store.StorePipeline": 400,
}
EXTENSIONS = {
    "crawlers.runs.CrawlRunExtension": 100,
}

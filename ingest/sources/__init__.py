"""Network connectors, one module per source (``earful ingest <module name>``).

Each module exposes ``build(config, http, search)`` returning a
:class:`~earful.ingest.base.PollingSource` or :class:`~earful.ingest.base.StreamingSource`
(see :mod:`earful.ingest.base`), plus its connector class. Modules whose name starts
with ``_`` are shared helpers, not connectors.

* ``bluesky``: Jetstream websocket firehose (no login), time cursor.
* ``mastodon``: hashtag / public timelines over REST on several instances;
  websocket streaming when a user token is set.
* ``reddit``: search, subreddit posts and comments over OAuth client credentials.
* ``hackernews``: Algolia ``search_by_date``, the Firebase items API as fallback.
* ``statuspage``: Atlassian Statuspage incident updates (official).
* ``rss``: RSS / Atom feeds with conditional GET.
"""

from __future__ import annotations

__all__: list[str] = []

"""What handlers and scheduled jobs share: catalogs, renderers, keyboards, callback codecs, Deps."""

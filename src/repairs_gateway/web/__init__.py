"""The resident site: a reference front-end for the Repairs API, on GOV.UK Frontend.

It talks to a gateway only through the published REST API over HTTP with an API key, as
any council's own front-end would, so it works against any implementation of the standard
(`repairs-gateway web`; decision 18)."""

"""GOV.UK Notify sender for repairs-gateway, and a simulator of Notify's API v2."""

from .notifier import NotifySender, official_client
from .plugin import PLUGIN
from .settings import NOTIFY_API_URL, NotifySettings

__all__ = ["NOTIFY_API_URL", "PLUGIN", "NotifySender", "NotifySettings", "official_client"]

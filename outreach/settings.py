"""Every setting, declared once with its default and help, read from OUTREACH_* variables."""

from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str

    @property
    def env(self) -> str:
        return "OUTREACH_" + self.name.upper()


# The single declaration of every setting. README.md lists them (a test keeps both in step).
SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "data", "Directory holding the SQLite database, uploaded photos and the generated secret key."),
    Setting("secret_key", "", "Key that signs sessions and links. If empty, one is generated on first start and kept in DATA_DIR/secret_key (mode 0600)."),
    Setting("base_url", "", "Public URL of the site (e.g. https://outreach.example.org), used in links made outside a request (CLI, exports). Empty: taken from each request."),
    Setting("allowed_hosts", "", "Comma-separated host names this site answers to (the Host header); '*' accepts any. Empty: the host of BASE_URL, or, when BASE_URL is empty too, only localhost and 127.0.0.1."),
    Setting("https", False, "Set to 1 behind an HTTPS reverse proxy: session cookies get the Secure flag and HSTS is sent."),
    Setting("trusted_proxies", "127.0.0.1", "Comma-separated proxy addresses whose X-Forwarded-For/-Proto headers are trusted (uvicorn's forwarded_allow_ips). '*' trusts all."),
    Setting("default_locale", "fr", "Language of the interface when the browser asks for none we have (fr or en)."),
    Setting("session_max_age", 60 * 60 * 24 * 30, "Seconds a sign-in lasts (default 30 days: workers sign in once, then work offline)."),
    Setting("login_max_failures", 5, "Failed sign-ins allowed per email from one client address within LOGIN_WINDOW before 429."),
    Setting("login_address_max_failures", 20, "Failed sign-ins allowed per client address, whatever the email, within LOGIN_WINDOW before 429."),
    Setting("login_window", 300, "Seconds over which failed sign-ins per address are counted."),
    Setting("login_email_max_failures", 50, "Failed sign-ins allowed per email from all addresses together within LOGIN_EMAIL_WINDOW before 429 (slows guessing spread over many addresses)."),
    Setting("login_email_window", 3600, "Seconds over which failed sign-ins per email, from all addresses, are counted."),
    Setting("sync_rate_limit", 120, "Sync requests allowed per user per minute before 429."),
    Setting("report_rate_limit", 10, "Anonymous reports allowed per client address per REPORT_RATE_WINDOW before 429."),
    Setting("report_rate_window", 3600, "Seconds over which anonymous reports and photo uploads are counted."),
    Setting("upload_rate_limit", 30, "Anonymous photo uploads allowed per client address per REPORT_RATE_WINDOW before 429."),
    Setting("nearby_rate_limit", 60, "Searches for reports near a place allowed per client address per minute before 429."),
    Setting("max_open_reports_per_contact", 5, "Open reports one reporter email or phone may have at once."),
    Setting("max_body_bytes", 1024 * 1024, "Largest JSON request body accepted (bytes)."),
    Setting("max_photo_bytes", 10 * 1024 * 1024, "Largest photo upload accepted (bytes)."),
    Setting("body_timeout", 30, "Seconds a request body may take to arrive before the server answers 408 (slow senders hold a connection)."),
    Setting("tile_url", "", "Map tile URL template for the coordinator map (e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png). Empty: points on a plain background."),
    Setting("tile_attribution", "", "Attribution text shown under the map tiles."),
    Setting("contact_retention_days", 365, "Days a follow-up contact is kept after consent before it is purged."),
    Setting("reporter_contact_retention_days", 90, "Days a reporter's contact is kept after their report is closed."),
    Setting("device_stale_days", 3, "A device that has not synced for this many days is flagged to coordinators."),
    Setting("timezone", "Europe/Paris", "The city's timezone (an IANA name such as Europe/Paris): days and ISO weeks in the dashboard, lists, filters and exports are its local days, and times are shown in it. An unknown name stops the server at start."),
    Setting("decidim_version", "0.30", "Version of the city's Decidim platform the proposals export is made for: from 0.30 categories go in `taxonomies/ids`, before in `category/id`."),
    Setting("decidim_categories", "", "How worksite categories map to Decidim taxonomy (or category) ids, e.g. `bench=12,planter=13 14`. A category not listed is left without one."),
    Setting("invite_max_age", 7 * 24 * 3600, "Seconds an invitation or password-reset link stays valid."),
    Setting("smtp_host", "", "SMTP server that sends the e-mail (e.g. smtp.example.org). Empty: e-mail is off and links are shown to copy."),
    Setting("smtp_port", 587, "Port of the SMTP server (587 for STARTTLS, 465 for TLS, 25 without encryption)."),
    Setting("smtp_user", "", "User name for the SMTP server (empty: no authentication)."),
    Setting("smtp_password", "", "Password for the SMTP server."),
    Setting("smtp_security", "starttls", "How the connection to the SMTP server is encrypted: starttls, tls or none."),
    Setting("mail_from", "", "Sender address of every message, e.g. 'Participation <participation@example.org>'. Required when SMTP_HOST is set."),
    Setting("mail_max_attempts", 12, "Attempts to send one message before it is shown to admins as failed (waits grow from 1 minute to 1 hour between attempts)."),
    Setting("db_busy_timeout", 30, "Seconds a request waits for a database lock held by another process before answering 503."),
    Setting("disk_warning_mb", 500, "/health warns when the data directory's disk has less free space than this (MiB)."),
    Setting("litestream_replica", "", "Where Litestream replicates the database (a directory path or file:// URL; s3://… is reported as configured). Set when Litestream runs beside the server: the app then leaves WAL checkpoints to Litestream and /health reports the last replication."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, raw: str) -> object:
    if isinstance(setting.default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(setting.default, int):
        return int(raw)
    return raw


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    secret_key: str = ""
    base_url: str = ""
    allowed_hosts: str = ""
    https: bool = False
    trusted_proxies: str = "127.0.0.1"
    default_locale: str = "fr"
    session_max_age: int = 60 * 60 * 24 * 30
    login_max_failures: int = 5
    login_address_max_failures: int = 20
    login_window: int = 300
    login_email_max_failures: int = 50
    login_email_window: int = 3600
    sync_rate_limit: int = 120
    report_rate_limit: int = 10
    report_rate_window: int = 3600
    upload_rate_limit: int = 30
    nearby_rate_limit: int = 60
    max_open_reports_per_contact: int = 5
    max_body_bytes: int = 1024 * 1024
    max_photo_bytes: int = 10 * 1024 * 1024
    body_timeout: int = 30
    tile_url: str = ""
    tile_attribution: str = ""
    contact_retention_days: int = 365
    reporter_contact_retention_days: int = 90
    device_stale_days: int = 3
    invite_max_age: int = 7 * 24 * 3600
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"
    mail_from: str = ""
    mail_max_attempts: int = 12
    db_busy_timeout: int = 30
    disk_warning_mb: int = 500
    litestream_replica: str = ""
    timezone: str = "Europe/Paris"
    decidim_version: str = "0.30"
    decidim_categories: str = ""

    def __post_init__(self):
        # An unknown zone stops the server at start, with a message saying what to set.
        from .localtime import UnknownTimezone, zone

        try:
            zone(self.timezone)
        except UnknownTimezone as e:
            raise SystemExit(str(e)) from None
        from .coordinator.decidim import MappingError, parse_mapping

        try:
            parse_mapping(self.decidim_categories)
        except MappingError as e:
            raise SystemExit(str(e)) from None

    @property
    def tz(self):
        """The city's zone (a ZoneInfo)."""
        from .localtime import zone

        return zone(self.timezone)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Build settings from OUTREACH_* variables; keyword overrides win."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for setting in SETTINGS:
            if setting.env in environ:
                try:
                    values[setting.name] = _coerce(setting, environ[setting.env])
                except ValueError:
                    raise SystemExit(f"{setting.env}: expected a number, got {environ[setting.env]!r}")
        values.update(overrides)
        values["data_dir"] = Path(values.get("data_dir", "data"))
        return cls(**values)

    @property
    def mail_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "outreach.db"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    def with_secret(self) -> "Settings":
        """Return settings whose secret key is set: from the env, or kept in the data directory."""
        if self.secret_key:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        return dataclasses.replace(self, secret_key=path.read_text().strip())


assert set(_BY_NAME) == {f.name for f in dataclasses.fields(Settings)}, "SETTINGS and Settings disagree"

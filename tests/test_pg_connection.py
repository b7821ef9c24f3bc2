"""Database URLs and connection errors: the password never shows, the cause does (real server, loopback)."""
import pytest

from index.errors import ConfigError, DatabaseUnavailable
from index.pg.connection import connect
from index.pg.url import is_database_url, redacted
from index.settings import Settings


def test_redacted_hides_every_password_form():
    assert redacted("postgresql://u:s3cret@db.example:5432/v") == "postgresql://u:***@db.example:5432/v"
    assert redacted("postgres://u@h/v?sslmode=require&password=s3cret") == "postgres://u@h/v?sslmode=require&password=***"
    assert "s3cret" not in redacted("postgresql://u:s3cret@h/v?password=s3cret")
    assert redacted("host=127.0.0.1 port=1 password=s3cret") == "host=127.0.0.1 port=1 password=***"  # libpq's form
    assert redacted("host=h password='s3 cret' user=u") == "host=h password=*** user=u"
    assert redacted("postgresql://") == "postgresql://"


@pytest.mark.parametrize("url", ["postgresql://u:s3cret@[::1/db", "host=127.0.0.1 port=1 password=s3cret"])
def test_a_url_that_cannot_be_read_never_shows_its_password(url):
    with pytest.raises((ConfigError, DatabaseUnavailable)) as caught:
        connect(url)
    assert "s3cret" not in str(caught.value) and len(str(caught.value).splitlines()) == 1


def test_setting_comes_from_the_environment_and_defaults_to_files():
    assert Settings.from_env({}).database_url == ""
    assert Settings.from_env({"VERBATIM_DATABASE_URL": "postgresql://a@b/c"}).database_url == "postgresql://a@b/c"
    assert is_database_url("postgresql://a@b/c") and not is_database_url("sqlite:///x")


def test_not_a_postgres_url_is_a_config_error():
    with pytest.raises(ConfigError, match="not a postgresql"):
        connect("mysql://u:pw@h/db")


def test_wrong_password_names_the_server_but_not_the_password(pg_server):
    bad = pg_server.url.replace(pg_server.password, "wrong-pass-123")
    with pytest.raises(DatabaseUnavailable) as caught:
        connect(bad)
    message = str(caught.value)
    assert pg_server.url_for(with_password=False).split("@")[-1] in message
    assert "wrong-pass-123" not in message and pg_server.password not in message


def test_a_server_that_is_down_is_a_one_line_error(pg_server):
    pg_server.pause()
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            connect(pg_server.url)
        assert "\n" not in str(caught.value) and pg_server.password not in str(caught.value)
    finally:
        pg_server.resume()
    with connect(pg_server.url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)

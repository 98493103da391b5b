"""The data directory resolves to one absolute folder whatever the working directory, the demo
chooses its ports without taking one it was told to use, and hands its fleet a key of its own
through the environment, never on the command line."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

import csms
from csms.cli_demo import SIM_KEY_ENV, choose_ports, demo_settings, fleet_command
from csms.config import Settings, settings_from
from csms.data_dir import (
    default_data_dir,
    resolve_data_dir,
    source_checkout,
    this_checkout,
    user_data_dir,
)
from csms.errors import ConfigError
from simulators.cli import amain, build_parser
from simulators.demo import KEY_ENV, api_key
from tests.conftest import ADMIN_TOKEN

CHECKOUT = Path(csms.__file__).resolve().parent.parent


def test_the_checkout_is_found_only_by_our_own_pyproject(tmp_path: Path) -> None:
    assert source_checkout() == this_checkout() == CHECKOUT  # the suite runs from the checkout
    package = tmp_path / "site-packages" / "csms"
    package.mkdir(parents=True)
    assert source_checkout(package) is None  # installed: no pyproject.toml beside the package
    (tmp_path / "site-packages" / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert source_checkout(package) is None
    (tmp_path / "site-packages" / "pyproject.toml").write_text('[project]\nname = "csms"\n')
    assert source_checkout(package) == tmp_path / "site-packages"
    (tmp_path / "site-packages" / "pyproject.toml").write_text("not [toml")
    assert source_checkout(package) is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HOME": "/home/op"}, "/home/op/.local/share/csms"),
        ({"HOME": "/home/op", "XDG_DATA_HOME": "/data"}, "/data/csms"),
        ({"HOME": "/home/op", "XDG_DATA_HOME": "relative"}, "/home/op/.local/share/csms"),
        ({"HOME": "/home/op", "XDG_DATA_HOME": ""}, "/home/op/.local/share/csms"),
    ],
)
def test_installed_the_default_is_the_users_data_directory(
    env: dict[str, str], expected: str
) -> None:
    assert user_data_dir(env) == Path(expected)
    assert default_data_dir(env, None) == Path(expected)
    assert resolve_data_dir(None, env, None) == Path(expected)


def test_from_a_checkout_the_default_is_its_var(tmp_path: Path) -> None:
    assert default_data_dir({"XDG_DATA_HOME": "/data"}, tmp_path) == tmp_path / "var"


def test_a_given_folder_is_absolute_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_data_dir("data", {}, CHECKOUT) == tmp_path / "data"
    assert resolve_data_dir("../x/./data", {}, None) == tmp_path.parent / "x" / "data"
    assert resolve_data_dir("/srv/csms", {}, CHECKOUT) == Path("/srv/csms")
    assert resolve_data_dir("~/csms", {}, None) == Path.home() / "csms"


def test_settings_resolve_flag_then_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert settings_from(env={}).data_dir == CHECKOUT / "var"
    assert settings_from(env={"CSMS_DATA_DIR": "env-dir"}).data_dir == tmp_path / "env-dir"
    flag = argparse.Namespace(data_dir="flag-dir")
    assert settings_from(flag, env={"CSMS_DATA_DIR": "x"}).data_dir == tmp_path / "flag-dir"
    assert Settings().data_dir == CHECKOUT / "var"
    assert os.getcwd() == str(tmp_path)


def demo_args(**given: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "ocpp_port": None,
        "http_port": None,
        "platform_port": None,
        "data_dir": None,
        "database_url": None,
    }
    return argparse.Namespace(**{**base, **given})


def test_demo_ports_default_when_free_and_any_free_one_when_taken() -> None:
    def taken(_host: str, port: int) -> str | None:
        return "the address is already in use" if port in (9000, 8090) else None

    ports, notes = choose_ports(demo_args(), "0.0.0.0", taken)
    assert ports == {"ocpp_port": 0, "http_port": 8000, "platform_port": 0}
    assert notes == [
        "port 9000 (--ocpp-port) is taken: the demo takes a free one",
        "port 8090 (--platform-port) is taken: the demo takes a free one",
    ]
    ports, notes = choose_ports(demo_args(ocpp_port=0, platform_port=0), "0.0.0.0", taken)
    assert ports == {"ocpp_port": 0, "http_port": 8000, "platform_port": 0} and notes == []


def test_a_demo_port_given_and_taken_is_refused() -> None:
    def taken(_host: str, port: int) -> str | None:
        return "the address is already in use" if port == 9100 else None

    ports, notes = choose_ports(demo_args(ocpp_port=9101, http_port=9102), "::", taken)
    assert ports == {"ocpp_port": 9101, "http_port": 9102, "platform_port": 8090}
    assert notes == []
    with pytest.raises(ConfigError, match=r"^cannot listen on :::9100 \(--http-port\): the add"):
        choose_ports(demo_args(http_port=9100), "::", taken)
    with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1:9100 \(--platform-port"):
        choose_ports(demo_args(platform_port=9100), "0.0.0.0", taken)


def test_the_demo_keeps_to_its_own_data(tmp_path: Path) -> None:
    ports = {"ocpp_port": 0, "http_port": 0, "platform_port": 0}
    base = Settings(data_dir=tmp_path, database_url="postgresql://u:p@h/real")
    own = demo_settings(demo_args(), base, ports, ADMIN_TOKEN)
    assert own.data_dir == tmp_path / "demo" and own.database_url is None
    given = demo_settings(demo_args(data_dir=str(tmp_path)), base, ports, ADMIN_TOKEN)
    assert given.data_dir == tmp_path
    chosen = demo_settings(demo_args(database_url="postgresql://d/demo"), base, ports, ADMIN_TOKEN)
    assert chosen.database_url == "postgresql://d/demo"


def test_the_fleet_gets_its_key_in_the_environment_not_on_its_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CSMS_ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("CSMS_SECRET_KEY", "the-operators-sealing-key")
    args = demo_args(stations=3, duration=5.0)
    command, env = fleet_command(args, 9123, "http://127.0.0.1:8123", "demo-key-123")
    assert "demo-key-123" not in " ".join(command) and "--key" not in command
    assert command[-4:] == ["--stations", "3", "--duration", "5.0"]
    assert env[SIM_KEY_ENV] == "demo-key-123" and SIM_KEY_ENV == KEY_ENV
    # the CSMS's own secrets stay with it
    assert "CSMS_ADMIN_TOKEN" not in env and "CSMS_SECRET_KEY" not in env
    # the fleet's own parser takes that command line and finds the key where it was put
    parsed = build_parser().parse_args(command[3:])
    assert api_key(parsed, env) == "demo-key-123"
    assert api_key(build_parser().parse_args([*command[3:], "--key", "given"]), env) == "given"


async def test_the_fleet_without_a_key_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    code = await amain(["demo", "city", "--url", "ws://127.0.0.1:1/ocpp", "--api", "http://x"])
    assert code == 2
    assert capsys.readouterr().err == (
        "csms-sim demo: no API key: set CSMS_SIM_KEY (or give --key)\n"
    )

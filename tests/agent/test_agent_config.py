"""Settings: layers, allowed origins, card-type presets, and the command line's refusals."""

from __future__ import annotations

import pytest
from esign_agent import cli
from esign_agent.config import (
    Config,
    ConfigError,
    default_config_path,
    load_config,
    normalize_origin,
)
from esign_agent.presets import card_types

SITE = "https://esign.example.gov.tr"


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_command_line_beats_environment_beats_file(tmp_path):
    path = write(tmp_path, f'port = 1111\nallow_origins = ["{SITE}"]\npin_entry = "agent"\n')
    env = {
        "ESIGN_AGENT_PORT": "2222",
        "ESIGN_AGENT_ALLOW_ORIGINS": "https://a.example, https://b.example",
    }
    from_env = load_config({}, env=env, config_file=path)
    assert (from_env.port, from_env.allow_origins, from_env.pin_entry) == (
        2222,
        ("https://a.example", "https://b.example"),
        "agent",  # only the file set it
    )
    from_cli = load_config({"port": 3333, "allow_origins": ("https://c.example",)}, env=env, config_file=path)
    assert (from_cli.port, from_cli.allow_origins, from_cli.config_file) == (
        3333,
        ("https://c.example",),
        path,
    )


def test_environment_names_the_configuration_file(tmp_path):
    path = write(tmp_path, "port = 4444\n")
    assert load_config({}, env={"ESIGN_AGENT_CONFIG": path}).port == 4444


def test_defaults_without_any_file(tmp_path):
    config = load_config({}, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert config == Config()
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "esign-agent" / "config.toml"


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("https://Esign.Example.gov.tr", SITE),
        ("https://esign.example.gov.tr:443/", SITE),
        ("https://esign.example.gov.tr:8443", "https://esign.example.gov.tr:8443"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ],
)
def test_origins_are_compared_in_the_form_browsers_send(given, canonical):
    assert normalize_origin(given) == canonical


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "null",
        "esign.example.gov.tr",
        "http://esign.example.gov.tr",
        "https://x.example/app",
        "https://x.example?a=1",
        "https://user@x.example",
        "ftp://x.example",
        "https://x.example:99999",
    ],
)
def test_origins_that_would_weaken_the_allow_list_stop_the_agent(origin):
    with pytest.raises(ConfigError):
        load_config({"allow_origins": (origin,)}, env={})


@pytest.mark.parametrize(
    "text",
    [
        "prot = 1\n",
        "port = \n",
        'card_types = ["gemalto"]\n',
        'pin_entry = "sms"\n',
        "port = 70000\n",
        'allow_origins = "https://x.example"\n',
    ],
)
def test_bad_configuration_files_are_refused_with_a_reason(tmp_path, text):
    with pytest.raises(ConfigError):
        load_config({}, env={}, config_file=write(tmp_path, text))


def test_a_missing_named_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config({}, env={}, config_file=str(tmp_path / "nope.toml"))


def test_module_paths_add_card_types_or_override_presets(tmp_path):
    path = write(tmp_path, '[modules]\nturksp11 = "/opt/turk/libturksp11.so"\n')
    config = load_config({"modules": {"akis": "/opt/akis/libakisp11.so"}}, env={}, config_file=path)
    types = {c.id: c.candidates for c in card_types(config.card_types, config.modules)}
    assert types == {
        "akis": ("/opt/akis/libakisp11.so",),
        "turksp11": ("/opt/turk/libturksp11.so",),
    }


def test_akis_preset_knows_the_usual_folders_of_each_system(monkeypatch):
    monkeypatch.setenv("SystemRoot", r"C:\Windows")
    (windows,) = card_types(("akis",), {}, os_name="windows")
    (linux,) = card_types(("akis",), {}, os_name="linux")
    (macos,) = card_types(("akis",), {}, os_name="macos")
    assert windows.candidates == (
        r"C:\Windows\System32\akisp11.dll",
        r"C:\Windows\SysWOW64\akisp11.dll",
    )
    assert linux.candidates == ("/usr/lib/libakisp11.so", "/usr/local/lib/libakisp11.so")
    assert macos.candidates == ("/usr/local/lib/libakisp11.dylib",)


def test_command_line_rejects_a_bad_origin_before_starting(capsys):
    assert cli.main(["run", "--allow-origin", "http://esign.example.gov.tr"]) == 2
    assert "must use https" in capsys.readouterr().err


def test_command_line_options_reach_the_settings(tmp_path):
    args = cli._parser().parse_args(
        [
            "run",
            "--port",
            "0",
            "--allow-origin",
            SITE,
            "--allow-origin",
            "http://localhost:3000",
            "--card-type",
            "softhsm",
            "--module",
            "akis=/opt/akis.so",
            "--pin-entry",
            "agent",
            "--config",
            write(tmp_path, "poll_interval = 0.5\n"),
        ]
    )
    config = cli._config(args)
    assert config.allow_origins == (SITE, "http://localhost:3000")
    assert (config.port, config.card_types, dict(config.modules)) == (
        0,
        ("softhsm",),
        {"akis": "/opt/akis.so"},
    )
    assert (config.pin_entry, config.poll_interval) == ("agent", 0.5)

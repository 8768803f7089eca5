"""Configuration: the YAML file, HAMBURGER_* environment variables and `serve` flags, and start-up
refusing invalid values with a message that names the key (no model is loaded for these)."""
import os
import subprocess
from pathlib import Path

from conftest import BINARY, REPO


def serve(*args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HAMBURGER_")}
    full_env.update(env or {})
    return subprocess.run([str(BINARY), "serve", *args], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def test_invalid_flag_value_names_the_key():
    result = serve("--port", "eighty")
    assert result.returncode != 0
    assert "'port'" in result.stderr and "flag --port" in result.stderr


def test_invalid_environment_value_names_the_variable():
    result = serve(env={"HAMBURGER_MAX_NUM_SEQS": "many"})
    assert result.returncode != 0
    assert "'max_num_seqs'" in result.stderr and "HAMBURGER_MAX_NUM_SEQS" in result.stderr


def test_out_of_range_value_names_the_key():
    result = serve("--decoding", "speculative")
    assert result.returncode != 0
    assert "'decoding'" in result.stderr


def test_unknown_yaml_key_and_bad_yaml(tmp_path: Path):
    bad_key = tmp_path / "bad-key.yaml"
    bad_key.write_text("port: 8000\nmax_tokens_per_day: 5\n")
    result = serve("--config", str(bad_key))
    assert result.returncode != 0
    assert "unknown key 'max_tokens_per_day'" in result.stderr

    not_yaml = tmp_path / "not.yaml"
    not_yaml.write_text("port: [1, 2\n")
    result = serve("--config", str(not_yaml))
    assert result.returncode != 0
    assert "not valid YAML" in result.stderr


def test_tls_needs_both_files():
    result = serve("--tls-cert", "/tmp/cert.pem")
    assert result.returncode != 0
    assert "tls_cert and tls_key must be set together" in result.stderr


def test_flag_beats_environment_beats_file(tmp_path: Path):
    # The file says 1, the environment 2 (valid), the flag an invalid value: the flag's error wins,
    # which shows the flag is applied last.
    config = tmp_path / "c.yaml"
    config.write_text("block_size: 1\n")
    result = serve("--config", str(config), "--block-size", "0", env={"HAMBURGER_BLOCK_SIZE": "2"})
    assert result.returncode != 0
    assert "'block_size'" in result.stderr and "1...1024" in result.stderr
    # Without the flag the environment's value applies; a bad environment value overrides a good file.
    result = serve("--config", str(config), env={"HAMBURGER_BLOCK_SIZE": "0"})
    assert result.returncode != 0 and "'block_size'" in result.stderr


def test_missing_model_file_says_what_to_do():
    result = serve("--model", "/nonexistent/model.gguf", "--port", "0")
    assert result.returncode != 0
    assert "make setup" in result.stderr


def test_invalid_kv_cache_dtype_names_the_key_and_source(tmp_path: Path):
    result = serve("--kv-cache-dtype", "int4")
    assert result.returncode != 0
    assert "'kv_cache_dtype'" in result.stderr and "flag --kv-cache-dtype" in result.stderr
    assert "float32, bfloat16, float16, int8" in result.stderr

    result = serve(env={"HAMBURGER_KV_CACHE_DTYPE": "fp8"})
    assert result.returncode != 0
    assert "'kv_cache_dtype'" in result.stderr and "HAMBURGER_KV_CACHE_DTYPE" in result.stderr

    config = tmp_path / "dtype.yaml"
    config.write_text("kv_cache_dtype: double\n")
    result = serve("--config", str(config))
    assert result.returncode != 0
    assert "'kv_cache_dtype'" in result.stderr and str(config) in result.stderr

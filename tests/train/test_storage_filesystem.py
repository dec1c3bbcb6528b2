"""Where checkpoints go on S3: the endpoint from the job spec or, like the readers,
from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL."""
import pytest

from distlm.train.driver import storage_filesystem

from train_helpers import job


def _kwargs(fs):
    return fs.__reduce__()[1][0]


@pytest.fixture
def no_aws_env(monkeypatch):
    for var in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_local_storage_needs_no_filesystem(no_aws_env):
    no_aws_env.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    assert storage_filesystem(job("fmnist/ce.yaml", "run.storage_path=/tmp/runs")) is None


def test_plain_aws_s3_is_left_to_pyarrow(no_aws_env):
    assert storage_filesystem(job("fmnist/ce.yaml", "run.storage_path=s3://b/runs")) is None


def test_endpoint_from_the_environment(no_aws_env):
    no_aws_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    no_aws_env.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7")   # the S3-specific one wins
    no_aws_env.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    kw = _kwargs(storage_filesystem(job("fmnist/ce.yaml", "run.storage_path=s3://b/runs")))
    assert kw["endpoint_override"] == "http://127.0.0.1:7" and kw["scheme"] == "http"
    assert kw["region"] == "eu-west-3"


def test_job_spec_endpoint_wins_over_the_environment(no_aws_env):
    no_aws_env.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:7")
    spec = job("fmnist/ce.yaml", "run.storage_path=s3://b/runs",
               "data.storage={endpoint_url: 'http://127.0.0.1:5', region: us-west-2}")
    kw = _kwargs(storage_filesystem(spec))
    assert kw["endpoint_override"] == "http://127.0.0.1:5" and kw["region"] == "us-west-2"

# distlm training image: the official Ray GPU image (CUDA, Python 3.11, Ray preinstalled)
# plus this package with the face-detection extra.  The same image serves the KubeRay
# head and workers, `ray up` nodes (cluster/aws-gpu.yaml) and one-off runs.
#
#   docker build -t distlm:0.1.0 .
#   docker run --rm --gpus all distlm:0.1.0 python -m distlm.train jobs/local-smoke.yaml
#
# No credentials enter the image: S3 keys come from the environment at run time
# (Kubernetes Secret via envFrom, or `docker run -e AWS_ACCESS_KEY_ID ...`).
# Keep the Ray version equal to the cluster's (KubeRay rayVersion, ray up image).
FROM rayproject/ray:2.60.0-py311-gpu

# The Ray images run as the unprivileged user `ray` (uid 1000) with home /home/ray.
WORKDIR /home/ray/distlm

# Dependencies first, from the metadata only, so code edits do not reinstall torch.
COPY --chown=ray:users pyproject.toml README.md ./
RUN mkdir -p distlm && touch distlm/__init__.py \
    && pip install --no-cache-dir ".[faces,predict]" \
    && pip uninstall -y distlm

# Then the code and the job specs (RayJob entrypoints name jobs/<name>.yaml relative
# to this directory).
COPY --chown=ray:users distlm ./distlm
COPY --chown=ray:users jobs ./jobs
RUN pip install --no-cache-dir --no-deps ".[faces,predict]"

ENV PYTHONUNBUFFERED=1
# The trainer's Prometheus exporter (telemetry.metrics_port) and Ray's own metrics.
EXPOSE 8000 8080

# KubeRay and `ray up` override the command with `ray start ...`; a bare `docker run`
# prints the trainer's usage.
CMD ["python", "-m", "distlm.train", "--help"]

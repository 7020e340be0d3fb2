# The grading workers' image: the students' environment (the same uv.lock, filmkit as a package,
# the corpus at /opt/filmkit) plus bubblewrap, the sandbox every notebook runs in.
# Build from the repository root:  docker build -f deploy/kubernetes/grader.Dockerfile -t REGISTRY/filmkit/grader:SHA .
FROM python:3.11-slim-bookworm

RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap tini \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv

WORKDIR /opt/filmkit
COPY pyproject.toml uv.lock README.md ./
COPY src/ src/
COPY source_texts/ source_texts/
ENV UV_PROJECT_ENVIRONMENT=/opt/venv UV_COMPILE_BYTECODE=1 UV_PYTHON_DOWNLOADS=never
RUN uv sync --locked --no-dev --no-editable && chmod -R a+rX /opt/venv /opt/filmkit

ENV PATH=/opt/venv/bin:$PATH FILMKIT_ROOT=/opt/filmkit
ENTRYPOINT ["tini", "--"]
CMD ["filmkit", "cluster", "--help"]

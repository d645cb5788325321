# AffectLab for Hugging Face Spaces (Docker SDK) or any Docker host: the Streamlit app on port 7860.
FROM python:3.11-slim

# Shared libraries that opencv-contrib-python (libGL, glib) and mediapipe (EGL, GLES) load;
# without libegl1/libgles2 the face detector falls back to the slow Haar cascades.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libegl1 libgles2 \
    && rm -rf /var/lib/apt/lists/*

# Spaces runs the container as uid 1000. The app dir is made here, owned by that user: some
# builders create a missing WORKDIR owned by root.
RUN useradd --create-home --uid 1000 user && install -d -o user -g user /home/user/app
USER user
# XSRF protection stays on: inside the Spaces iframe scripts/start.sh marks the XSRF cookie
# SameSite=None; Secure (Spaces serves HTTPS), so uploads work without turning protection off.
ENV HOME=/home/user \
    PATH=/home/user/venv/bin:$PATH \
    PYTHONUNBUFFERED=1
WORKDIR /home/user/app
RUN python -m venv /home/user/venv

# Build-time only: the CPU build of torch (PyPI's is the multi-GB CUDA one), no pip cache.
ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_NO_CACHE_DIR=1

# Dependencies first (this layer is reused until requirements.txt changes), then the code, then
# the demo data and the default model (+ its ONNX export) prepared into ./data and ./annotations.db.
COPY --chown=user requirements.txt ./
COPY --chown=user scripts/ scripts/
RUN scripts/build_image.sh install
COPY --chown=user . .
RUN scripts/build_image.sh prepare

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/_stcore/health', timeout=4)"
# start.sh moves the data to /data (persistent storage) when it is mounted, then runs CMD.
ENTRYPOINT ["scripts/start.sh"]
CMD ["streamlit", "run", "app.py", "--server.port=7860", "--server.address=0.0.0.0"]

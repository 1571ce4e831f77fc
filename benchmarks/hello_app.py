"""The baseline: a bare Flask endpoint, served exactly like eventsapp in the benchmarks."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"

"""The demo's steps: the seed's load-balancer story told with real processes.

A dev server stands in for Consul; three web backends register as registrator would; ctmpl
keeps the load balancer's nginx.conf equal to the healthy ones and reloads nginx. Two
backends stop and start again. Each step prints what is registered, what ctmpl rendered and
what the load balancer answers. Without nginx the steps run the same, minus the answers.
"""

from __future__ import annotations

import difflib
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import httpx
from prometheus_client.parser import text_string_to_metric_families

from demo.lb import LoadBalancer
from demo.processes import Child, ChildError, Children, free_port, wait_for_port

#: The demo backend, run as a script so that it needs no package on the path.
BACKEND_SCRIPT = str(Path(__file__).with_name("backend.py"))

WEB = ("web1", "web2", "web3")
STOPPING = ("web2", "web3")
#: Client addresses on distinct /24 networks: nginx's ip_hash keys on the first three octets.
CLIENTS = ("127.0.1.1", "127.0.2.1", "127.0.3.1")
STEPS = 5


def _quote(word: str) -> str:
    """Shell quoting that stays readable: double quotes around text holding single quotes."""
    if "'" in word and not any(c in word for c in '"$`\\'):
        return f'"{word}"'
    return shlex.quote(word)


class Demo:
    """Runs the steps; every process it starts belongs to ``children``."""

    def __init__(
        self,
        children: Children,
        workdir: Path,
        template: Path,
        nginx: str | None,
        *,
        without_nginx: str = "nginx is not installed here",
        out: TextIO = sys.stdout,
        pause: float = 0.0,
    ) -> None:
        self.children = children
        self.template = template
        self.lb = LoadBalancer(nginx, workdir / "lb") if nginx else None
        self.without_nginx = without_nginx
        self.status = f"127.0.0.1:{free_port()}"
        self.conf = workdir / "lb" / "nginx.conf"
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        self.out = out
        self.pause = pause
        self.listen = f"127.0.0.1:{free_port()}"
        self.consul = ""
        self.ports: dict[str, int] = {}
        self.backends: dict[str, Child] = {}
        self.shown = ""  # the nginx.conf text last printed
        self.step = 0

    # ------------------------------------------------------------------ output

    def say(self, text: str = "", indent: int = 2) -> None:
        for line in text.splitlines() or [""]:
            self.out.write(" " * indent + line + "\n" if line else "\n")
        self.out.flush()

    def heading(self, title: str) -> None:
        if self.step:
            time.sleep(self.pause)
        self.step += 1
        self.out.write(f"\n[{self.step}/{STEPS}] {title}\n")
        self.out.flush()

    def command(self, argv: Sequence[str], env: str = "") -> None:
        """Print a command line as one would type it (``ctmpl``, not ``python -m ctmpl``)."""
        words = ["ctmpl", *argv[3:]] if argv[1:3] == ["-m", "ctmpl"] else list(argv)
        self.say(f"$ {env}{' '.join(_quote(w) for w in words)}")

    # ------------------------------------------------------------------ steps

    def run(self) -> None:
        self.start_consul()
        self.render_without_backends()
        self.register_backends()
        self.stop_backends()
        self.restart_backends()

    def start_consul(self) -> None:
        self.heading("Start the dev server, a stand-in for Consul (no Consul needed)")
        argv = [sys.executable, "-m", "ctmpl.devserver", "-addr", "127.0.0.1:0"]
        self.say("$ ctmpl-devserver -addr 127.0.0.1:0")
        child = self.children.start("devserver", argv)
        self.consul = child.wait_for_output(r"listening on http://(\S+)").group(1)
        self.say(f"listening on {self.consul}; nothing is registered yet")

    def render_without_backends(self) -> None:
        self.heading("ctmpl renders the load balancer's nginx.conf before any web node exists")
        env = f"LB_LISTEN={self.listen} "
        once = self._ctmpl("-once", "-template", f"{self.template}:{self.conf}")
        self.command(once, env)
        rendering = self.children.start("ctmpl-once", once, env=self._env())
        if rendering.process.wait(60) != 0:
            raise ChildError(f"ctmpl -once failed\n{rendering.describe()}")
        self.show_config()
        if self.lb is not None:
            checked = self.lb.test()
            self.command(self.lb.argv("-t"))
            self.say(checked.stderr.strip(), indent=4)
            if checked.returncode != 0:
                self.without_nginx = "nginx cannot run here (see above)"
                self.lb = None
        status = ("-status-addr", self.status)
        if self.lb is None:
            self.say(f"{self.without_nginx}: ctmpl keeps rendering nginx.conf and this demo")
            self.say("prints each change, but no load balancer answers.")
            daemon = self._ctmpl("-template", f"{self.template}:{self.conf}", *status)
        else:
            nginx = self.children.start("nginx", self.lb.argv(foreground=True))
            host, _, port = self.listen.rpartition(":")
            wait_for_port(host, int(port), child=nginx)
            self.say(f"nginx started (master pid {nginx.pid}), listening on {self.listen}")
            reload = self.lb.reload_command()
            daemon = self._ctmpl("-template", f"{self.template}:{self.conf}:{reload}", *status)
        self.say("ctmpl keeps running, watching Consul and re-rendering on every change:")
        self.command(daemon, env)
        self.children.start("ctmpl", daemon, env=self._env())
        self._wait(self.ctmpl_ready, "ctmpl's first render")
        self.say("(its first render equals the file: nothing is written, no command runs)")
        if self.lb is not None:
            self.show_answers(expect=None)
            self.say("(502: the placeholder server is down until a web node is healthy)")

    def register_backends(self) -> None:
        self.heading("Three web nodes start and register the way registrator does")
        for name in WEB:
            self.start_backend(name)
        for name in WEB:
            payload = json.dumps(self.registration(name))
            url = f"http://{self.consul}/v1/agent/service/register"
            self.say(f"$ curl -X PUT -d '{payload}' {url}")
            httpx.put(url, content=payload, timeout=10).raise_for_status()
        self.follow("their health checks pass", WEB)

    def stop_backends(self) -> None:
        self.heading(f"{' and '.join(STOPPING)} stop; their health checks fail")
        for name in STOPPING:
            self.backends[name].stop()
            self.say(f"{name} stopped")
        self.follow("the checks fail", [n for n in WEB if n not in STOPPING])

    def restart_backends(self) -> None:
        self.heading(f"{' and '.join(STOPPING)} start again")
        for name in STOPPING:
            self.start_backend(name)
        self.follow("their checks pass again", WEB)

    # ------------------------------------------------------------------ pieces

    def _ctmpl(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ctmpl", "-consul-addr", self.consul, *args]

    def _env(self) -> dict[str, str]:
        return {**os.environ, "LB_LISTEN": self.listen}

    def registration(self, name: str) -> dict[str, Any]:
        """registrator's payload: ID ``host:container:port``, an HTTP check every second."""
        port = self.ports[name]
        return {
            "ID": f"{name}:nginx{name.removeprefix('web')}:{port}",
            "Name": "nginx",
            "Address": "127.0.0.1",
            "Port": port,
            "Check": {"HTTP": f"http://127.0.0.1:{port}/", "Interval": "1s"},
        }

    def start_backend(self, name: str) -> None:
        port = self.ports.get(name, 0)
        argv = [sys.executable, BACKEND_SCRIPT, "-name", name]
        child = self.children.start(name, [*argv, "-addr", f"127.0.0.1:{port}"])
        found = child.wait_for_output(r"listening on http://127\.0\.0\.1:(\d+)")
        self.ports[name] = int(found.group(1))
        self.backends[name] = child
        self.say(f"{name} answers on 127.0.0.1:{self.ports[name]} with its name")

    def follow(self, event: str, healthy: Sequence[str]) -> None:
        """Wait for ctmpl to render ``healthy``; show Consul's view, the config, the LB."""
        wanted = [f"127.0.0.1:{self.ports[n]}" for n in sorted(healthy)]
        self.say(f"... waiting until {event} and ctmpl rewrites nginx.conf")
        self._wait(lambda: self.upstream() == wanted, f"ctmpl to render upstream {wanted}")
        self.show_consul()
        self.show_config()
        if self.lb is None:
            return
        lb = self.lb

        def settled() -> bool:
            """Every write of ctmpl has had its reload run, and nginx got each one."""
            writes, reloads = self.ctmpl_counts()
            return writes == reloads == lb.reloads()

        self._wait(settled, "nginx to be reloaded")
        writes, _ = self.ctmpl_counts()
        self.say(f"the running ctmpl has written nginx.conf {writes} times, each followed by")
        self.say(f"nginx -s reload; nginx got {lb.reloads()} reloads, master pid {lb.master_pid()}")
        self.show_answers(expect=set(healthy))

    def ctmpl_ready(self) -> bool:
        try:
            return httpx.get(f"http://{self.status}/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def ctmpl_counts(self) -> tuple[int, int]:
        """(files written, reload commands run) from ctmpl's /metrics."""
        text = httpx.get(f"http://{self.status}/metrics", timeout=5).text
        counts = {"ctmpl_renders_total": 0, "ctmpl_commands_total": 0}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name in counts and sample.labels.get("result", "success") == "success":
                    counts[sample.name] += int(sample.value)
        return counts["ctmpl_renders_total"], counts["ctmpl_commands_total"]

    def _wait(self, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                logs = "\n".join(c.describe(10) for c in self.children.started)
                raise ChildError(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.05)

    def upstream(self) -> list[str]:
        try:
            text = self.conf.read_text()
        except FileNotFoundError:
            return []
        block = text.partition("upstream http_backend {")[2].partition("}")[0]
        return [
            line.strip().removeprefix("server ").removesuffix(";")
            for line in block.splitlines()
            if line.strip().startswith("server ")
        ]

    def show_consul(self) -> None:
        url = f"http://{self.consul}/v1/health/service/nginx"
        self.say(f"Consul's view ($ curl {url}):")
        for entry in httpx.get(url, timeout=10).json():
            service = entry["Service"]
            statuses = {check["Status"] for check in entry["Checks"]}
            status = next(s for s in ("critical", "warning", "passing") if s in statuses)
            where = f"{service['Address']}:{service['Port']}"
            self.say(f"{service['ID']:<22} {where:<17} {status}", indent=4)

    def show_config(self) -> None:
        """The rendered file in full the first time, as a diff afterwards."""
        text = self.conf.read_text()
        if not self.shown:
            self.say(f"ctmpl rendered {self.conf}:")
            self.say(text, indent=4)
        else:
            self.say(f"ctmpl rewrote {self.conf.name}:")
            diff = difflib.unified_diff(self.shown.splitlines(), text.splitlines(), n=0)
            changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("---", "+++")]
            self.say("\n".join(changed), indent=4)
        self.shown = text

    def show_answers(self, expect: set[str] | None) -> None:
        """What the load balancer answers to clients from three networks."""
        url = f"http://{self.listen}/"
        self.say(f"The load balancer answers ($ curl --interface CLIENT {url}):")
        answers: dict[str, str] = {}
        deadline = time.monotonic() + 5
        while True:
            answers = {client: self._ask(url, client) for client in CLIENTS}
            if expect is None or set(answers.values()) == expect or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for client, answer in answers.items():
            self.say(f"client {client} -> {answer}", indent=4)

    @staticmethod
    def _ask(url: str, client: str) -> str:
        transport = httpx.HTTPTransport(local_address=client)
        try:
            with httpx.Client(transport=transport, timeout=5) as http:
                response = http.get(url)
        except httpx.HTTPError as exc:
            return f"error: {exc}"
        if response.status_code != 200:
            return f"{response.status_code} {response.reason_phrase}"
        return response.text.strip()

    def farewell(self) -> None:
        self.out.write("\nEverything keeps running. Try:\n")
        if self.lb is not None:
            self.say(f"curl http://{self.listen}/")
        self.say(f"curl http://{self.consul}/v1/health/service/nginx")
        self.say(f"cat {self.conf}")
        self.say(f"tail -f {self.children.directory}/ctmpl.log")
        self.out.write("Press Ctrl-C to stop everything and clean up.\n")
        self.out.flush()

"""A World is one test's set of processes (HAProxy, agents, backends): built
piece by piece, stopped in reverse order, and able to show every log when a
test fails."""

import os

from .agent import Agent, write_ini
from .haproxy import HAProxy
from .origin import ApiOrigin, Origin
from .recorder import SpoaRecorder

# Worlds alive right now, for the failure report hook in conftest.py.
LIVE = set()

MIRROR_HEADERS = "X-Mirror: true, X-Shadow-Version: v2"


class World:
    def __init__(self, workdir):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.parts = []
        LIVE.add(self)

    def _add(self, part):
        self.parts.append(part)
        return part

    def origin(self, role, name=None, delay=0.0, start=True):
        o = self._add(Origin(self.workdir, role, name=name, delay=delay))
        return o.start() if start else o

    def primary(self):
        return self.origin("primary")

    def shadow(self, name="shadow", delay=0.0, start=True):
        return self.origin("shadow", name=name, delay=delay, start=start)

    def api_origin(self, flavour, hang=5.0):
        """api_origin.py, "primary" or "shadow" (verdict tests)."""
        return self._add(ApiOrigin(self.workdir, flavour, hang=hang)).start()

    def agent(self, name="agent", urls=(), ini=None, start=True, **kw):
        a = self._add(Agent(self.workdir, name=name, urls=urls, ini=ini, **kw))
        return a.start() if start else a

    def recorder(self, name="recorder"):
        return self._add(SpoaRecorder(self.workdir, name=name)).start()

    def ini(self, name, **kw):
        return write_ini(os.path.join(self.workdir, name + ".ini"), **kw)

    def mirror_agent(self, shadow_url, name="agent", mirror_headers=MIRROR_HEADERS, targets=(),
                     transport="tcp"):
        """An agent configured the seeds' way: an INI [mirror] section with
        mirror-url and mirror-headers, plus optional [target] sections.
        transport "unix": HAProxy reaches it on a UNIX socket in the workdir."""
        ini = self.ini(name, mirror_url=shadow_url, mirror_headers=mirror_headers,
                       targets=targets)
        socket = os.path.join(self.workdir, name + ".sock") if transport == "unix" else None
        return self.agent(name=name, ini=ini, socket=socket)

    def haproxy(self, primary, agents, spoe_conf=None, env=None, cfg=None, wait_agents=True):
        h = self._add(HAProxy(self.workdir, primary.port,
                              [getattr(a, "spop_addr", a.port) for a in agents],
                              spoe_conf=spoe_conf, env=env, cfg=cfg))
        h.start()
        if wait_agents:
            h.wait_agents("UP")
        return h

    def stack(self, shadow_delay=0.0, shadow_running=True, env=None, spoe_conf=None,
              transport="tcp"):
        """primary + shadow + one agent (seed-style INI) + HAProxy, all up;
        transport "unix" puts the agent on a UNIX socket."""
        primary = self.primary()
        shadow = self.shadow(delay=shadow_delay, start=shadow_running)
        agent = self.mirror_agent(shadow.url, transport=transport)
        proxy = self.haproxy(primary, [agent], spoe_conf=spoe_conf, env=env)
        return primary, shadow, agent, proxy

    def close(self):
        for part in reversed(self.parts):
            try:
                part.stop()
            except Exception:  # keep stopping the others
                pass
        LIVE.discard(self)

    def report(self, max_bytes=4000):
        out = []
        for part in self.parts:
            for p in part.logs():
                out.append("---- %s (pid %s) %s\n%s" % (p.name, p.pid, p.log_path,
                                                       p.tail(max_bytes)))
        return "\n".join(out)

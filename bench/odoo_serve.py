"""Run Odoo's server as ``python -m odoo`` does, without the prefork server's long-polling
process: ``python bench/odoo_serve.py -c odoo.conf -d db --workers=4 ...``.

The benchmarks talk to Odoo over JSON-RPC, HTTP routes and the job runner; none uses the
bus' websocket. Under ``python -m odoo`` the prefork master cannot start that process (it
runs ``sys.argv[0]``, ``odoo/__main__.py``, as a script: a relative-import error) and
spawns it again every time it wakes up, which is at every request its workers serve: a
dying Python start-up per wake-up, a third of the job server's CPU samples during the chaos
burst (py-spy), none of it work a deployment does. A deployment's long-polling process
starts once and idles when no browser listens; here it is left out.
"""

import sys

import odoo
from odoo.service import server

server.PreforkServer.long_polling_spawn = lambda self: None

if __name__ == "__main__":
    sys.exit(odoo.cli.main())

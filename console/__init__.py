"""The operator's console: start, scale, watch and stop the platform's services.

Two backends behind one interface: :mod:`console.local` (processes on this machine)
and :mod:`console.swarm` (Docker Swarm services). The console launches services as
processes or containers; it never imports them.
"""

"""How many sockets this process can hold: its file-descriptor limit, less what it needs for
everything else.

Past the limit, asyncio's accept fails with EMFILE and stops accepting for a whole second,
page loads included; uvloop's accepts the connection and resets it at once. So the socket cap
leaves room for the database's files, the bus, and the page requests under way (each holds its
descriptor for Hypercorn's keep-alive timeout after its answer), and refuses sockets beyond it
with 1013 instead, which htmx retries later.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

# The app's own files (the database and its journal once per connection, the log, pipes, the
# event loop's) are about 30; the rest is for page requests: 20 a second held for a 2 s
# keep-alive timeout is 40, and up to 71 descriptors besides the sockets were seen in use at
# 19,900 sockets with 20 pages a second.
RESERVED_DESCRIPTORS = 88


def socket_budget(configured: int) -> int:
    """The socket cap to use: the configured one, or fewer if the file limit cannot hold it.
    Raises the soft file limit as far as the hard one allows first, as servers commonly do."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = configured + RESERVED_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError) as error:
            log.warning("limits: could not raise the file limit from %d to %d: %s", soft, raised, error)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return configured
    budget = max(0, soft - RESERVED_DESCRIPTORS)
    log.warning(
        "limits: %d sockets at most (file limit %d, %d kept for the database and pages), not the configured %d",
        budget,
        soft,
        RESERVED_DESCRIPTORS,
        configured,
    )
    return budget

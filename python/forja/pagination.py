"""Iteration over paged list endpoints (``{"items": [...], "nextPageToken": "..."}``)."""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional

Page = Dict[str, Any]
FetchPage = Callable[[Optional[str]], Page]

__all__ = ["Pager"]


class Pager(Iterator[Dict[str, Any]]):
    """Yields every item of a paged listing, fetching the next page only when it is needed.

    The first page is fetched when the pager is created, so a bad argument or a missing
    permission raises at the call, not at the first ``for``. A pager is single-pass, like a
    generator; call the listing method again to start over.

    Attributes:
        next_page_token: the token of the page after the ones fetched so far, ``None`` at the end.

    Example::

        import itertools
        for user in client.users.list(page_size=50):
            print(user["username"])
        first_ten = list(itertools.islice(client.audit(), 10))
    """

    def __init__(self, fetch: FetchPage) -> None:
        self._fetch = fetch
        self._buffer: Deque[Dict[str, Any]] = deque()
        self.next_page_token: Optional[str] = None
        self._load(None)

    def _load(self, page_token: Optional[str]) -> None:
        page = self._fetch(page_token)
        self._buffer.extend(page.get("items") or [])
        token = page.get("nextPageToken")
        # A token equal to the one just used would loop forever; treat it as the end.
        self.next_page_token = token if token and token != page_token else None

    def __iter__(self) -> "Pager":
        return self

    def __next__(self) -> Dict[str, Any]:
        while not self._buffer:
            if self.next_page_token is None:
                raise StopIteration
            self._load(self.next_page_token)
        return self._buffer.popleft()

    def to_list(self) -> List[Dict[str, Any]]:
        """Fetches every remaining page and returns the items.

        Example::

            admins = [u for u in client.users.list().to_list() if u["isAdmin"]]
        """
        return list(self)

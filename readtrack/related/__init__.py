"""What to read next: Semantic Scholar's citation graph against the reader's list.

`s2` asks the Graph and Recommendations APIs (politely, through the command's HTTP session), `cache` keeps
their answers in the data dir's database with their date, `graph` joins them to the list (each paper's place
and status, the plugins that run it) and ranks ``next``, `suggested` adds a suggestion to the list.
"""

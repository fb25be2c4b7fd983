"""Markdown reading lists: read a checklist into sections and nested papers, and write a catalog as one.

Reading (`parse`) is meant for lists found in the wild. The structure comes from a CommonMark parser
(markdown-it-py, with GitHub's tables and strikethrough, raw HTML and front matter), so a list reads the way
GitHub renders it; what an item's text means is read from its tokens, forgivingly, never failing:

- Headings start sections. The first heading is the list's title instead when it is the only level-1
  heading and no list comes before it (``# Awesome X`` over ``## Topic`` headings). Items before any section
  heading go to a section named after the title, or "Imported". Headings without items make no section.
- Items are list items that start with a checkbox: ``[x]`` is read, ``[ ]`` todo, ``[/]`` reading, ``[-]``
  or ``[~]`` skipped (the Obsidian task states); nesting is the list nesting. A document with no checkbox at
  all is a plain paper list: every list item is a paper. In a checklist, a bullet without a checkbox over
  checklist items is a group: its slug becomes their tag (``- Survey`` gives ``survey``); other bullets
  without a checkbox are notes.
- An item's text is its first line, continued by lines that are not indented under it (CommonMark's lazy
  continuation) until it has its notes, and by any line needed to close a bracket it opened. Indented
  continuation lines, further paragraphs and note bullets are the paper's notes, as is text after ``--`` or
  `` # `` and, after a leading link, text after `` - ``, `` – ``, `` — ``, ``: `` or `` | ``. The item's own
  line wins: its title is its text up to its links, so a ``--`` followed by the paper's link (an arXiv link
  or one labelled as the paper) with none before it is part of the title, not the start of notes
  (``Large Kernel Matters -- Improve ... [[Paper]](arXiv)``); a checkbox typed again in the text (``[x]``)
  and a short name in brackets before the title (``[GCN] Title``) are not title words (the label keeps
  the name). An arXiv link on an indented continuation line is the arXiv id of an item whose line has none.
- Links: ``[Title](url)`` gives the title. arXiv links (abs, pdf, html) and bare ids (``1706.03762``,
  ``arXiv:1706.03762``) give the arXiv ids; the title link or the first link not labelled as an extra gives
  the ``url``. Code links, labelled code, PyTorch, TensorFlow, MXNet, Caffe and the like
  (`items._CODE_WORDS`) or repositories on GitHub, GitLab, Bitbucket or Codeberg, give ``code`` (from the
  item's continuation lines too). Links labelled notes, slides, video, blog and the like
  (`items._EXTRA_WORDS`), further web links, and relative links (files beside the list) are kept in the
  notes as ``[label](target)``; an item with nothing else (no arXiv id, url or code) takes its first web
  extra as ``url``. Links labelled only so (``[[Paper](..)] [[Code](..)] Title``) may also come before the
  title: links, not title words.
- Years and venues: ``(2018)`` and ``(2017.03)`` are the year; ``[OSDI'22]``, ``(NeurIPS 2020)``,
  ``[arxiv'23]``, a trailing ``, ICML 2019`` and a link labelled so, ``[CVPR 2016](https://doi.org/...)``,
  give the year and the venue as a tag (``osdi``, ``neurips``, ``cvpr``; arXiv and CoRR are preprint
  servers, not venues: no tag), and leave the title (the link is still the url). ``'22`` is 2022 up to
  next year, else 19xx.
- Hashtags that end an item's text (before its notes), ``Mamba #ssm #long-context``, are its tags
  (lowercase), not title words; a ``#`` elsewhere (``C#``, ``the #1 trick``) is text.
  A citation, ``(Vaswani et al., 2017)`` or ``(Ilya, 2014)``, gives the year and leaves the title (the
  label keeps it). Any other parenthesis holding a year gives the year.
- Bold, italic, strikethrough, code and HTML markup are stripped; backslash escapes keep a character
  literal. Ignored: code, tables, HTML blocks and comments, horizontal rules, front matter (its ``title:`` is
  used), link reference definitions (their links are resolved), table-of-contents items linking to
  ``#anchors``, badge images. Windows line endings, a UTF-8 or UTF-16 byte-order mark are fine.
- A paper's label is the original wording when it differs from the title (besides an extracted year or
  venue). An HTML comment ``<!-- id: transformer -->`` in the item gives its id, and
  ``<!-- id: vit tags: vision, iclr -->`` its id and tags; ``title: ...`` or ``label: ...`` at its end
  gives the title (the item's text then being the label) or the label.

Writing (`render`) produces a checklist of the same shape that reads back to the same ids, titles,
labels, statuses, sections, nesting, years, arXiv ids, urls, code links, tags and notes: ``# title``, list
notes, one ``## section`` per section with its notes, then ``- [x] Title (2017) [arXiv:1706.03762](https://
arxiv.org/abs/1706.03762) [host](url) [code](link) <!-- id: transformer tags: attention -->`` items
nested by two spaces, paper notes indented under their item. A paper with a label is written in the
reader's words: the label is the item's text where it reads back as it is (``Long Short-Term Memory
(Hochreiter and Schmidhuber, 1997)``), with ``title: ...`` in the comment where it does not give the
title (``Transformer (Attention is all you need) ... <!-- id: transformer title: Attention Is All You
Need -->``); else the title is the text and ``label: ...`` ends the comment. Markdown characters in
titles are backslash-escaped only as far as needed to read back unchanged. Tags with spaces or markup are
left out (a comment cannot carry them).

markdown-it-py is imported on the first `parse`, never at import time: listing and marking never load it.

Where things are: `reader` (the block structure: headings, lists, notes), `items` (one item's text),
`writer` (`render`), `lists` (what a list holds, `ImportedList`, and what reading and writing share).
"""

from readtrack.formats.markdown.lists import DEFAULT_SECTION, ImportedList, ImportedSection, slug
from readtrack.formats.markdown.reader import decode, parse
from readtrack.formats.markdown.writer import render

__all__ = ["DEFAULT_SECTION", "ImportedList", "ImportedSection", "decode", "parse", "render", "slug"]

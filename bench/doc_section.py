"""Replace a marked section of a Markdown document (or add it before the
"## Reproducing" chapter, or at the end): the benchmark reports share it."""
import os
import re


def write_section(doc, start, end, block):
    """Put 'block' (which begins with 'start' and ends with 'end') in 'doc'."""
    text = open(doc).read() if os.path.exists(doc) else ""
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: block,
                      text, flags=re.S)
    elif "## Reproducing" in text:
        text = text.replace("## Reproducing", block + "\n\n## Reproducing", 1)
    else:
        text += "\n" + block + "\n"
    open(doc, "w").write(text)

#!/usr/bin/env python3
"""Writes a C++ file holding the stock profiles as raw strings: embed_profiles.py OUT SELF PROFILE..."""
import os
import sys

out, profiles = sys.argv[1], sys.argv[3:]
with open(out, "w") as f:
    f.write('#include <string_view>\n#include <utility>\n\nnamespace sandboxrun {\n')
    f.write('extern const std::pair<std::string_view, std::string_view> stock_profiles[];\n')
    f.write('extern const int stock_profile_count;\n')
    f.write('const std::pair<std::string_view, std::string_view> stock_profiles[] = {\n')
    for path in profiles:
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path) as p:
            text = p.read()
        f.write('    {"%s", R"sbxprofile(%s)sbxprofile"},\n' % (name, text))
    f.write('};\nconst int stock_profile_count = %d;\n}  // namespace sandboxrun\n' % len(profiles))

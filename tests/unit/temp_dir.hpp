// A fresh directory under the temp dir for one test, removed with everything
// in it when the test is done.
#pragma once

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& name = "sandboxrun-test") {
        std::string tmpl = (std::filesystem::temp_directory_path() / (name + "-XXXXXX")).string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

# Finds cJSON (Debian: libcjson-dev) and defines the target klease_cjson::cjson.
# Named after libklease so it never shadows a parent project's own FindcJSON.
include_guard(GLOBAL)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_KLEASE_CJSON QUIET libcjson)
endif()
find_path(KLEASE_CJSON_INCLUDE_DIR cjson/cJSON.h HINTS ${PC_KLEASE_CJSON_INCLUDE_DIRS})
find_library(KLEASE_CJSON_LIBRARY NAMES cjson HINTS ${PC_KLEASE_CJSON_LIBRARY_DIRS})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(klease_cjson REQUIRED_VARS KLEASE_CJSON_LIBRARY KLEASE_CJSON_INCLUDE_DIR)
if(klease_cjson_FOUND AND NOT TARGET klease_cjson::cjson)
  add_library(klease_cjson::cjson UNKNOWN IMPORTED)
  set_target_properties(klease_cjson::cjson PROPERTIES
    IMPORTED_LOCATION "${KLEASE_CJSON_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${KLEASE_CJSON_INCLUDE_DIR}")
endif()
mark_as_advanced(KLEASE_CJSON_INCLUDE_DIR KLEASE_CJSON_LIBRARY)

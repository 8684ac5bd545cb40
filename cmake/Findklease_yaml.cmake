# Finds libyaml (Debian: libyaml-dev) and defines the target klease_yaml::yaml.
include_guard(GLOBAL)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_KLEASE_YAML QUIET yaml-0.1)
endif()
find_path(KLEASE_YAML_INCLUDE_DIR yaml.h HINTS ${PC_KLEASE_YAML_INCLUDE_DIRS})
find_library(KLEASE_YAML_LIBRARY NAMES yaml HINTS ${PC_KLEASE_YAML_LIBRARY_DIRS})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(klease_yaml REQUIRED_VARS KLEASE_YAML_LIBRARY KLEASE_YAML_INCLUDE_DIR)
if(klease_yaml_FOUND AND NOT TARGET klease_yaml::yaml)
  add_library(klease_yaml::yaml UNKNOWN IMPORTED)
  set_target_properties(klease_yaml::yaml PROPERTIES
    IMPORTED_LOCATION "${KLEASE_YAML_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${KLEASE_YAML_INCLUDE_DIR}")
endif()
mark_as_advanced(KLEASE_YAML_INCLUDE_DIR KLEASE_YAML_LIBRARY)

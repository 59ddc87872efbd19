# qsplit_library(NAME FOLDER SOURCES...): a library for one folder under src/.
#
# Each library sees only its own headers and those of the libraries it links: its
# folder is exposed through a private include root (build/inc/NAME/FOLDER -> src/FOLDER),
# not through src/ as a whole, so including a header of a part you do not depend on
# fails to compile instead of silently working.
function(qsplit_library name folder)
  set(root ${CMAKE_BINARY_DIR}/inc/${name})
  get_filename_component(parent ${root}/${folder} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${folder} ${root}/${folder} SYMBOLIC)
  add_library(${name} ${ARGN})
  target_include_directories(${name} PUBLIC ${root})
endfunction()

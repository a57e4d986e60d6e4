# Sourced by nginx's auto/make: C++-only flags per object (nginx has no CXXFLAGS).
for rs_src in $RS_SRCS; do
    rs_sub=`dirname $rs_src | sed "s|^$ngx_addon_dir/||"`
    rs_obj="$NGX_OBJS/addon/`basename \`dirname $rs_src\``/`basename $rs_src .cpp`.o"
    echo "$rs_obj : CFLAGS += -std=c++20 -fvisibility=hidden -fvisibility-inlines-hidden -Wno-missing-field-initializers" >> $NGX_MAKEFILE
done

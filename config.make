# Sourced by nginx's auto/make: C++-only flags per glue object (nginx has no CXXFLAGS), and the
# rule that builds the core library with its own Makefile (re-run every time; it rebuilds only
# what changed, and the .so relinks only when the library did).
for rs_src in $RS_SRCS; do
    rs_obj="$NGX_OBJS/addon/`basename \`dirname $rs_src\``/`basename $rs_src .cpp`.o"
    echo "$rs_obj : CFLAGS += -std=c++20 -fvisibility=hidden -fvisibility-inlines-hidden -Wno-missing-field-initializers" >> $NGX_MAKEFILE
done
cat << END >> $NGX_MAKEFILE

$NGX_OBJS/ngx_http_routeshift_module$ngx_modext: $RS_CORE_LIB
$RS_CORE_LIB: routeshift-core-always
	\$(MAKE) -C $RS_DIR/core OUT=`dirname $RS_CORE_LIB`

.PHONY: routeshift-core-always
routeshift-core-always:

END

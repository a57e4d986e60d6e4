/work/main/t/unit/build/core/sse_parser.o: \
 /work/main/ngx_routeshift_module/core/sse_parser.cpp \
 /work/main/ngx_routeshift_module/core/sse_parser.hpp
/work/main/ngx_routeshift_module/core/sse_parser.hpp:

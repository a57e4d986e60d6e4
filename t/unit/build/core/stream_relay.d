/work/main/t/unit/build/core/stream_relay.o: \
 /work/main/ngx_routeshift_module/core/stream_relay.cpp \
 /work/main/ngx_routeshift_module/core/stream_relay.hpp \
 /work/main/ngx_routeshift_module/core/sse_parser.hpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp
/work/main/ngx_routeshift_module/core/stream_relay.hpp:
/work/main/ngx_routeshift_module/core/sse_parser.hpp:
/work/main/ngx_routeshift_module/core/json_util.hpp:

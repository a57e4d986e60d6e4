/work/main/t/unit/build/core/chat_request.o: \
 /work/main/ngx_routeshift_module/core/chat_request.cpp \
 /work/main/ngx_routeshift_module/core/chat_request.hpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp \
 /work/main/ngx_routeshift_module/core/openai_error.hpp
/work/main/ngx_routeshift_module/core/chat_request.hpp:
/work/main/ngx_routeshift_module/core/json_util.hpp:
/work/main/ngx_routeshift_module/core/openai_error.hpp:

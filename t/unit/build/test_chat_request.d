/work/main/t/unit/build/test_chat_request: \
 /work/main/t/unit/test_chat_request.cpp \
 /work/main/ngx_routeshift_module/core/chat_request.hpp \
 /work/main/ngx_routeshift_module/core/json_util.hpp \
 /work/main/ngx_routeshift_module/core/openai_error.hpp \
 /work/main/t/unit/test_util.hpp
/work/main/ngx_routeshift_module/core/chat_request.hpp:
/work/main/ngx_routeshift_module/core/json_util.hpp:
/work/main/ngx_routeshift_module/core/openai_error.hpp:
/work/main/t/unit/test_util.hpp:

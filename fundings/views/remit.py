from rest_framework.views import APIView


class RemitView(APIView):
    pass

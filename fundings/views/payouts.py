from rest_framework.views import APIView


class PayoutView(APIView):
    pass

from rest_framework.views import APIView


class FundingView(APIView):
    pass


class FundingReviewView(APIView):
    pass


class PublicFeedView(APIView):
    pass


class FollowingFeedView(APIView):
    pass


class UserFeedView(APIView):
    pass


class JoinedFeedView(APIView):
    pass
